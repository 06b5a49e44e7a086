import EnvelopeCrypto
import Foundation

extension Command {
    static let keygen = Command(
        name: "keygen",
        abstract: "Print a new root key line '<id>:<base64>' for KEK_ROOT_KEYS.",
        discussion: """
            Store the line in your secret manager or a file readable only by kek (KEK_ROOT_KEYS_FILE).
            To rotate the root key, put the new line first and keep the old one after it until
            'kek rotate-root' has finished.
            """,
        options: [.value("id", "ID", "The root key id (default: root-<date>).")],
        run: { arguments in
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd"
            let id = arguments.string("id") ?? "root-\(formatter.string(from: Date()))"
            var bytes = try randomBytes(count: 32)
            defer { secureZero(&bytes) }
            print("\(id):\(Data(bytes).base64EncodedString())")
        }
    )
}
