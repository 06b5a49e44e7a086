import EnvelopeCrypto
import Foundation
import KeyWrapping
import PKCS11

extension Command {
    static let keygen = Command.typed(
        "keygen",
        abstract: "Print a new root key line '<id>:<base64>' for KEK_ROOT_KEYS (or create one in an HSM with --pkcs11).",
        discussion: """
            Store the line in your secret manager or a file readable only by kek (KEK_ROOT_KEYS_FILE).
            To rotate the root key, put the new line first and keep the old one after it until
            'kek rotate-root' has finished.

            With --pkcs11 'pkcs11:token=<label>;object=<label>?module-path=<module>&pin-source=file:<pin file>'
            the key is generated inside the token (AES-256, sensitive, never extractable) and the
            printed line names it instead of holding it. The PIN comes from pin-source or KEK_PKCS11_PIN.
            Refused when an object with that label exists. See runbooks/hsm-root-key.md.
            """,
        options: KeygenOptions.self,
        run: { options in
            if let text = options.pkcs11 {
                try generateInToken(uriText: text, id: options.id)
                return
            }
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd"
            let id = options.id ?? "root-\(formatter.string(from: Date()))"
            var bytes = try randomBytes(count: 32)
            defer { secureZero(&bytes) }
            print("\(id):\(Data(bytes).base64EncodedString())")
        }
    )

    /// Checks the entry would parse as a keyring line before anything is created in the token.
    private static func generateInToken(uriText: String, id: String?) throws {
        let uri = try PKCS11URI.parse(uriText)
        let line = "\(id ?? uri.object):\(uriText)"
        let keyring = try Keyring.parse(line)
        guard keyring.reference(id: keyring.activeID) == uriText else {
            throw UsageError("keygen: the URI must not contain ',' (write %2C): keyring entries are separated by commas")
        }
        let key = try PKCS11RootKey.generate(id: keyring.activeID, uri: uri, environment: ProcessInfo.processInfo.environment)
        Terminal.error("generated AES-256 key '\(uri.object)' in token '\(uri.token)' (check value \(try key.checkValue()), \(try key.checkValue().scheme))")
        print(line)
    }
}

/// `kek keygen`'s options.
struct KeygenOptions: CommandOptions {
    var id: String?
    var pkcs11: String?

    static let fields: [OptionField<Self>] = [
        .value("id", "ID", "The root key id (default: root-<date>, or the object label with --pkcs11).", \.id, .text),
        .value("pkcs11", "URI", "Generate the key in this PKCS#11 token and print a keyring entry naming it.", \.pkcs11, .text),
    ]
}
