import EnvelopeCrypto
import KeyWrapping
import PostgresClient

/// Unwrapped KEKs of one thread of work, loaded from `keks` on first use.
///
/// A KEK that cannot be read (missing row, destroyed, root key absent, failed tag) is an
/// error that stops the caller: no code path here makes a replacement key.
public final class KEKCiphers {
    private let connection: PostgresConnection
    private let rootKeys: RootKeys
    private var loaded: [Int32: KEKCipher] = [:]

    public init(connection: PostgresConnection, rootKeys: RootKeys) {
        self.connection = connection
        self.rootKeys = rootKeys
    }

    /// The cipher of KEK `id`, for unwrapping (any state that still holds a key).
    public func cipher(_ id: Int32) throws -> KEKCipher {
        if let cached = loaded[id] { return cached }
        guard let row = try connection.query("SELECT root_key_id, wrapped_key, state FROM keks WHERE id = $1", [id]).first else {
            throw KeyManagementError.kekNotFound(id: id)
        }
        guard let wrapped: [UInt8] = try row.decode(1) else {
            throw KeyManagementError.kekUnreadable(id: id, state: try row.decode(2))
        }
        let key = try rootKeys.cipher(id: try row.decode(0)).unwrapKEK(wrapped, kekID: id)
        let cipher = try KEKCipher(id: id, key: key)
        loaded[id] = cipher
        return cipher
    }

    /// The active KEK's id, read now (it changes when a rotation starts).
    public func activeID() throws -> Int32 {
        guard let row = try connection.query("SELECT id FROM keks WHERE state = 'active'").first else {
            throw KeyManagementError.noActiveKEK
        }
        return try row.decode(0)
    }

    /// The active KEK, for wrapping new DEKs.
    public func active() throws -> KEKCipher { try cipher(try activeID()) }
}

@available(*, unavailable, message: "holds GCM contexts; create one per thread")
extension KEKCiphers: Sendable {}
