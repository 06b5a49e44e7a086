import Foundation
import KeyManagement

extension Command {
    static let keysWrapLimit = Command.typed(
        "wrap-limit",
        abstract: "Show or set the GCM wrap limit per KEK, kept in the database for every process.",
        discussion: """
            The database counts every wrap under a KEK (DEKs kek makes, DEKs applications insert,
            rewraps) and refuses one past this limit (NIST SP 800-38D 8.3: at most 2^32).
            """,
        options: WrapLimitOptions.self,
        run: { options in
            let connection = try Database.connect()
            if let limit = options.newLimit { try KEKPolicy.setWrapLimit(connection, limit) }
            try report(json: options.json, WrapLimit(wrapLimit: try KEKPolicy.wrapLimit(connection)))
        }
    )
}

/// `kek keys wrap-limit`'s options.
struct WrapLimitOptions: CommandOptions {
    var newLimit: Int64?
    var json = false

    static let fields: [OptionField<Self>] = [
        .flag("json", "Print JSON: wrap_limit.", \.json),
        .argument(0, "n", "The new limit (1 to 4294967296); leave it out to show the current one.", \.newLimit,
                  OptionParser(expectation: "a whole number from 1 to \(KEKPolicy.maximumWrapLimit)",
                               parse: { Int64($0).flatMap { (1...KEKPolicy.maximumWrapLimit).contains($0) ? $0 : nil } },
                               show: { String($0) })),
    ]
}

/// The limit in force (after setting it, when a new one was given).
struct WrapLimit: CommandResult {
    var wrapLimit: Int64
    var text: String { "wrap limit per KEK: \(Formatting.count(wrapLimit))" }

    private enum CodingKeys: String, CodingKey { case wrapLimit = "wrap_limit" }
}
