import Foundation
import KeyManagement

extension Command {
    static let signingKeys = Command(
        name: "signing-keys",
        abstract: "Generate, list, revoke and reactivate a project's webhook signing keys (HMAC, 32 bytes).",
        subcommands: [.signingKeysGenerate, .signingKeysList, .signingKeysRevoke, .signingKeysReactivate]
    )

    static let signingKeysGenerate = Command.typed(
        "generate",
        abstract: "Make a new active key and print it once, base64, on stdout.",
        options: ProjectOptions.self,
        run: { options in
            let (record, key) = try KeySession.open().signingKeys.generate(project: options.project)
            let text = Output.base64(key)
            key.wipe()
            defer { text.wipe() }
            try Output.writeSecret(text)
            print("")
            Terminal.note("signing key \(record.id.uuidString.lowercased()) generated; it is shown only this once, store it now")
        }
    )

    static let signingKeysList = Command.typed(
        "list",
        abstract: "List a project's signing keys: id, status, dates; never the keys.",
        options: ProjectListOptions.self,
        run: { options in
            let records = try KeySession.open().signingKeys.list(project: options.project)
            if options.json { return try Output.json(records) }
            print("ID                                    STATUS   CREATED               REVOKED")
            for record in records {
                print("\(record.id.uuidString.lowercased())  \(record.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  "
                      + "\(record.createdAt.ISO8601Format())  \(record.revokedAt?.ISO8601Format() ?? "-")")
            }
        }
    )

    static let signingKeysRevoke = Command.typed(
        "revoke",
        abstract: "Stop a key from signing and verifying (reversible with reactivate).",
        options: SigningKeyOptions.self,
        run: { options in
            let record = try KeySession.open().signingKeys.revoke(project: options.project, id: options.id)
            print("revoked signing key \(record.id.uuidString.lowercased())")
        }
    )

    static let signingKeysReactivate = Command.typed(
        "reactivate",
        abstract: "Let a revoked key sign and verify again.",
        options: SigningKeyOptions.self,
        run: { options in
            let record = try KeySession.open().signingKeys.reactivate(project: options.project, id: options.id)
            print("reactivated signing key \(record.id.uuidString.lowercased())")
        }
    )
}

/// `kek signing-keys generate`: a project.
struct ProjectOptions: CommandOptions {
    var project = UUID()
    static let fields: [OptionField<Self>] = [.required("project", "UUID", "Project (required).", \.project, .uuid)]
}

/// `kek signing-keys revoke|reactivate`: a project and a key id.
struct SigningKeyOptions: CommandOptions {
    var project = UUID()
    var id = UUID()

    static let fields: [OptionField<Self>] = [
        .required("project", "UUID", "Project (required).", \.project, .uuid),
        .argument(0, "ID", "Signing key id.", \.id, .uuid),
    ]
}
