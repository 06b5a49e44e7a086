import Foundation
import KeyManagement

extension Command {
    static let secrets = Command(
        name: "secrets",
        abstract: "Store, read, list and delete a project's secrets (each under its own DEK).",
        subcommands: [.secretsPut, .secretsGet, .secretsList, .secretsRemove]
    )

    static let secretsPut = Command.typed(
        "put",
        abstract: "Create or update a secret; the value comes from stdin or --file, never from an argument.",
        discussion: """
            The bytes are stored exactly (a trailing newline from 'echo' is kept: use printf '%s').
            An update gets a new DEK and version + 1; the old DEK is deleted in the same transaction.
            """,
        options: SecretPutOptions.self,
        run: { options in
            let project = options.project
            let name = options.name
            if let problem = SecretName.problem(name) { throw UsageError("kek secrets put: \(problem)") }
            let value: SecretBytes
            if let path = options.file {
                value = try SecretInput.read(path: path, limit: SecretName.maxValueBytes)
            } else {
                if isatty(0) == 1 { Terminal.note("reading the value of \(name) from stdin; end with Ctrl-D") }
                value = try SecretInput.read(fileDescriptor: 0, name: "stdin", limit: SecretName.maxValueBytes)
            }
            defer { value.wipe() }
            let record = try KeySession.open().secrets.put(project: project, name: name, value: value,
                                                          description: options.description)
            print("stored \(record.name) version \(record.version) (\(value.count) bytes) in project \(project.uuidString.lowercased())")
        }
    )

    static let secretsGet = Command.typed(
        "get",
        abstract: "Print a secret's value, exactly its bytes with no newline added; the access is audited.",
        options: SecretNameOptions.self,
        run: { options in
            let value = try KeySession.open().secrets.get(project: options.project, name: options.name)
            defer { value.wipe() }
            try Output.writeSecret(value)
        }
    )

    static let secretsList = Command.typed(
        "list",
        abstract: "List a project's secrets: names, versions, value or stub, dates; never values.",
        options: ProjectListOptions.self,
        run: { options in
            let context = try KeySession.open()
            let records = try context.secrets.list(project: options.project)
            if options.json { return try Output.json(records) }
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

    static let secretsRemove = Command.typed(
        "rm",
        abstract: "Delete a secret and its DEK.",
        options: SecretNameOptions.self,
        run: { options in
            let record = try KeySession.open().secrets.remove(project: options.project, name: options.name)
            print("deleted \(record.name) (version \(record.version))" + (record.hasValue ? " and its DEK" : ", a stub without a value"))
        }
    )
}

/// `kek secrets put`'s options. `project` is required: its initial value is never used.
struct SecretPutOptions: CommandOptions {
    var project = UUID()
    var file: String?
    var description: String?
    var name = ""

    static let fields: [OptionField<Self>] = [
        .required("project", "UUID", "Project of the secret (required).", \.project, .uuid),
        .value("file", "FILE", "Read the value from FILE instead of stdin.", \.file, .text),
        .value("description", "TEXT", "What the secret is for (not secret).", \.description, .text),
        .argument(0, "NAME", "Secret name, [A-Za-z_][A-Za-z0-9_]*.", \.name, .text),
    ]
}

/// `kek secrets get|rm`: a project and a secret name.
struct SecretNameOptions: CommandOptions {
    var project = UUID()
    var name = ""

    static let fields: [OptionField<Self>] = [
        .required("project", "UUID", "Project of the secret (required).", \.project, .uuid),
        .argument(0, "NAME", "Secret name.", \.name, .text),
    ]
}

/// `kek secrets list` and `kek signing-keys list`: a project, and `--json`.
struct ProjectListOptions: CommandOptions {
    var project = UUID()
    var json = false

    static let fields: [OptionField<Self>] = [
        .required("project", "UUID", "Project (required).", \.project, .uuid),
        .flag("json", "Print JSON.", \.json),
    ]
}
