import EnvelopeCrypto
import Foundation
import KeyWrapping

/// The root keys of `KEK_ROOT_KEYS` (or the file named by `KEK_ROOT_KEYS_FILE`): the first
/// wraps new KEKs, every one of them can unwrap.
///
/// Not shareable between threads (each cipher owns a GCM context): load one per thread.
public final class RootKeys {
    public let keyring: Keyring
    /// Printed once by the caller when the key file is readable by group or others.
    public let warning: String?
    private var ciphers: [String: RootKeyCipher] = [:]

    public init(keyring: Keyring, warning: String? = nil) {
        self.keyring = keyring
        self.warning = warning
    }

    /// Reads the keyring from the process environment; fails loudly when absent or malformed.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RootKeys {
        let loaded = try Keyring.fromEnvironment(environment, variable: "KEK_ROOT_KEYS", fileVariable: "KEK_ROOT_KEYS_FILE")
        return RootKeys(keyring: loaded.keyring, warning: loaded.warning)
    }

    public var activeID: String { keyring.activeID }

    /// The cipher for root key `id`, or an error saying the keyring lacks it (never a new key).
    public func cipher(id: String) throws -> RootKeyCipher {
        if let cached = ciphers[id] { return cached }
        guard let key = keyring.key(id: id) else {
            throw KeyManagementError.rootKeyMissing(id: id, have: keyring.ids)
        }
        let cipher = try RootKeyCipher(id: id, key: key)
        ciphers[id] = cipher
        return cipher
    }

    public func activeCipher() throws -> RootKeyCipher { try cipher(id: keyring.activeID) }
}

@available(*, unavailable, message: "holds GCM contexts; load one per thread")
extension RootKeys: Sendable {}
