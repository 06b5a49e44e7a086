import Foundation
import KeyManagement

extension Command {
    static let signingKeys = Command(
        name: "signing-keys",
        abstract: "Generate, list, revoke and reactivate a project's webhook signing keys (HMAC, 32 bytes).",
        subcommands: [.signingKeysGenerate, .signingKeysList, .signingKeysRevoke, .signingKeysReactivate]
    )

    static let signingKeysGenerate = Command(
        name: "generate",
        abstract: "Make a new active key and print it once, base64, on stdout.",
        options: [.value("project", "UUID", "Project (required).")],
        run: { arguments in
            let (record, key) = try KeySession.open().signingKeys.generate(project: try arguments.project())
            let text = Output.base64(key)
            key.wipe()
            defer { text.wipe() }
            try Output.writeSecret(text)
            print("")
            Terminal.note("signing key \(record.id.uuidString.lowercased()) generated; it is shown only this once, store it now")
        }
    )

    static let signingKeysList = Command(
        name: "list",
        abstract: "List a project's signing keys: id, status, dates; never the keys.",
        options: [.value("project", "UUID", "Project (required)."), .flag("json", "Print JSON.")],
        run: { arguments in
            let records = try KeySession.open().signingKeys.list(project: try arguments.project())
            if arguments.flag("json") { return try Output.json(records) }
            print("ID                                    STATUS   CREATED               REVOKED")
            for record in records {
                print("\(record.id.uuidString.lowercased())  \(record.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  "
                      + "\(record.createdAt.ISO8601Format())  \(record.revokedAt?.ISO8601Format() ?? "-")")
            }
        }
    )

    static let signingKeysRevoke = Command(
        name: "revoke",
        abstract: "Stop a key from signing and verifying (reversible with reactivate).",
        options: [.value("project", "UUID", "Project (required).")],
        arguments: [.init(name: "ID", help: "Signing key id.")],
        run: { arguments in
            let record = try KeySession.open().signingKeys.revoke(project: try arguments.project(), id: try arguments.uuidArgument(0, "ID"))
            print("revoked signing key \(record.id.uuidString.lowercased())")
        }
    )

    static let signingKeysReactivate = Command(
        name: "reactivate",
        abstract: "Let a revoked key sign and verify again.",
        options: [.value("project", "UUID", "Project (required).")],
        arguments: [.init(name: "ID", help: "Signing key id.")],
        run: { arguments in
            let record = try KeySession.open().signingKeys.reactivate(project: try arguments.project(), id: try arguments.uuidArgument(0, "ID"))
            print("reactivated signing key \(record.id.uuidString.lowercased())")
        }
    )
}
