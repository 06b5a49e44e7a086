import Foundation
import KeyManagement

extension Command {
    static let secrets = Command(
        name: "secrets",
        abstract: "Store, read, list and delete a project's secrets (each under its own DEK).",
        subcommands: [.secretsPut, .secretsGet, .secretsList, .secretsRemove]
    )

    static let secretsPut = Command(
        name: "put",
        abstract: "Create or update a secret; the value comes from stdin or --file, never from an argument.",
        discussion: """
            The bytes are stored exactly (a trailing newline from 'echo' is kept: use printf '%s').
            An update gets a new DEK and version + 1; the old DEK is deleted in the same transaction.
            """,
        options: [
            .value("project", "UUID", "Project of the secret (required)."),
            .value("file", "FILE", "Read the value from FILE instead of stdin."),
            .value("description", "TEXT", "What the secret is for (not secret)."),
        ],
        arguments: [.init(name: "NAME", help: "Secret name, [A-Za-z_][A-Za-z0-9_]*.")],
        run: { arguments in
            let project = try arguments.project()
            let name = arguments.argument(0) ?? ""
            if let problem = SecretName.problem(name) { throw UsageError("\(arguments.commandPath): \(problem)") }
            let value: SecretBytes
            if let path = arguments.string("file") {
                value = try SecretInput.read(path: path, limit: SecretName.maxValueBytes)
            } else {
                if isatty(0) == 1 { Terminal.note("reading the value of \(name) from stdin; end with Ctrl-D") }
                value = try SecretInput.read(fileDescriptor: 0, name: "stdin", limit: SecretName.maxValueBytes)
            }
            defer { value.wipe() }
            let record = try KeySession.open().secrets.put(project: project, name: name, value: value,
                                                          description: arguments.string("description"))
            print("stored \(record.name) version \(record.version) (\(value.count) bytes) in project \(project.uuidString.lowercased())")
        }
    )

    static let secretsGet = Command(
        name: "get",
        abstract: "Print a secret's value, exactly its bytes with no newline added; the access is audited.",
        options: [.value("project", "UUID", "Project of the secret (required).")],
        arguments: [.init(name: "NAME", help: "Secret name.")],
        run: { arguments in
            let value = try KeySession.open().secrets.get(project: try arguments.project(), name: arguments.argument(0) ?? "")
            defer { value.wipe() }
            try Output.writeSecret(value)
        }
    )

    static let secretsList = Command(
        name: "list",
        abstract: "List a project's secrets: names, versions, value or stub, dates; never values.",
        options: [
            .value("project", "UUID", "Project (required)."),
            .flag("json", "Print JSON."),
        ],
        run: { arguments in
            let context = try KeySession.open()
            let records = try context.secrets.list(project: try arguments.project())
            if arguments.flag("json") { return try Output.json(records) }
            let width = max(4, records.map(\.name.count).max() ?? 0)
            print("NAME".padding(toLength: width, withPad: " ", startingAt: 0) + "  VERSION  VALUE   CREATED               UPDATED")
            for record in records {
                print(record.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                      + String(record.version).padding(toLength: 7, withPad: " ", startingAt: 0) + "  "
                      + (record.hasValue ? "stored" : "stub  ") + "  " + record.createdAt.ISO8601Format() + "  "
                      + record.updatedAt.ISO8601Format())
            }
        }
    )

    static let secretsRemove = Command(
        name: "rm",
        abstract: "Delete a secret and its DEK.",
        options: [.value("project", "UUID", "Project of the secret (required).")],
        arguments: [.init(name: "NAME", help: "Secret name.")],
        run: { arguments in
            let record = try KeySession.open().secrets.remove(project: try arguments.project(), name: arguments.argument(0) ?? "")
            print("deleted \(record.name) (version \(record.version))" + (record.hasValue ? " and its DEK" : ", a stub without a value"))
        }
    )
}
