import Foundation
import KeyManagement

extension Command {
    static let keysWrapLimit = Command(
        name: "wrap-limit",
        abstract: "Show or set the GCM wrap limit per KEK, kept in the database for every process.",
        discussion: """
            The database counts every wrap under a KEK (DEKs kek makes, DEKs applications insert,
            rewraps) and refuses one past this limit (NIST SP 800-38D 8.3: at most 2^32).
            """,
        arguments: [.init(name: "n", help: "The new limit (1 to 4294967296); leave it out to show the current one.", optional: true)],
        run: { arguments in
            let connection = try Database.connect()
            if let text = arguments.argument(0) {
                guard let limit = Int64(text), (1...KEKPolicy.maximumWrapLimit).contains(limit) else {
                    throw UsageError("kek keys wrap-limit: <n> must be a whole number from 1 to \(KEKPolicy.maximumWrapLimit), got '\(text)'")
                }
                try KEKPolicy.setWrapLimit(connection, limit)
            }
            print("wrap limit per KEK: \(Formatting.count(try KEKPolicy.wrapLimit(connection)))")
        }
    )
}
