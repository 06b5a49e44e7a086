import EnvelopeCrypto
import Foundation
import KeyWrapping
import PKCS11

/// The root keys of `KEK_ROOT_KEYS` (or the file named by `KEK_ROOT_KEYS_FILE`): the first
/// wraps new KEKs, every one of them can unwrap. An entry holds the key's bytes (base64) or
/// names a key in a PKCS#11 token (`<id>:pkcs11:...`), opened on first use with the PIN from
/// the URI's `pin-source` file or `KEK_PKCS11_PIN`.
///
/// Not shareable between threads (each root key owns a GCM context or a PKCS#11 session): load
/// one per thread.
public final class RootKeys {
    public let keyring: Keyring
    /// Printed once by the caller when the key file is readable by group or others.
    public let warning: String?
    /// Where the PIN variable of PKCS#11 entries is read from.
    private let environment: [String: String]
    private var ciphers: [String: any RootKey] = [:]

    public init(keyring: Keyring, warning: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.keyring = keyring
        self.warning = warning
        self.environment = environment
    }

    /// Reads the keyring from the process environment; fails loudly when absent or malformed.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RootKeys {
        let loaded = try Keyring.fromEnvironment(environment, variable: "KEK_ROOT_KEYS", fileVariable: "KEK_ROOT_KEYS_FILE")
        return RootKeys(keyring: loaded.keyring, warning: loaded.warning, environment: environment)
    }

    public var activeID: String { keyring.activeID }

    /// The root key `id`, or an error saying the keyring lacks it or its token cannot be used
    /// (never a new key).
    public func cipher(id: String) throws -> any RootKey {
        if let cached = ciphers[id] { return cached }
        let cipher: any RootKey
        if let key = keyring.key(id: id) {
            cipher = try RootKeyCipher(id: id, key: key)
        } else if let reference = keyring.reference(id: id) {
            do {
                cipher = try PKCS11RootKey.open(id: id, uri: try PKCS11URI.parse(reference), environment: environment)
            } catch let error as PKCS11Error {
                throw KeyManagementError.rootKeyUnavailable(id: id, reason: "\(error)")
            }
        } else {
            throw KeyManagementError.rootKeyMissing(id: id, have: keyring.ids)
        }
        ciphers[id] = cipher
        return cipher
    }

    public func activeCipher() throws -> any RootKey { try cipher(id: keyring.activeID) }
}

@available(*, unavailable, message: "holds GCM contexts and PKCS#11 sessions; load one per thread")
extension RootKeys: Sendable {}
