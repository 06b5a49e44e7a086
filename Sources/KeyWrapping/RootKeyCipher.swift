import EnvelopeCrypto

/// A root key held in this process's memory (from `KEK_ROOT_KEYS`), ready to wrap and unwrap
/// KEKs (`kek/v1|kek=<id>|root=<root id>`).
///
/// Keep one per root key for the life of the process; not shareable between threads.
public final class RootKeyCipher: RootKey {
    /// The id the root key has in the keyring; part of every KEK's associated data.
    public let rootKeyID: String
    let context: AESGCMContext
    private let check: RootKeyCheckValue

    /// Sets up the root key's GCM context once; `id` is its keyring id.
    public init(id: String, key: SymmetricKey) throws {
        rootKeyID = id
        context = try AESGCMContext(key: key)
        check = RootKeyCheckValue(of: key)
    }

    /// The key's identity as `root_keys.check_value` records it. A method (not free code over
    /// key bytes) so that a root key held in a token can compute it inside the token.
    public func checkValue() throws -> RootKeyCheckValue { check }

    /// KEKs wrapped by this object, for the per-key encryption limit (NIST SP 800-38D §8.3).
    public var wrapCount: Int { context.sealCount }

    /// Wraps a KEK so it can be stored in `keks.wrapped_key`.
    public func wrapKEK(_ kek: SymmetricKey, kekID: Int32) throws -> [UInt8] {
        do {
            return try context.seal(kek, aad: AAD.kek(id: kekID, rootKeyID: rootKeyID))
        } catch {
            throw KeyWrappingError(.wrap, .kek(id: kekID, rootKeyID: rootKeyID), reason: error)
        }
    }

    /// Unwraps a KEK straight into key memory.
    public func unwrapKEK(_ envelope: [UInt8], kekID: Int32) throws -> SymmetricKey {
        do {
            return try context.openKey(envelope, aad: AAD.kek(id: kekID, rootKeyID: rootKeyID))
        } catch {
            throw KeyWrappingError(.unwrap, .kek(id: kekID, rootKeyID: rootKeyID), reason: error)
        }
    }
}

@available(*, unavailable, message: "holds an AESGCMContext; create one per thread")
extension RootKeyCipher: Sendable {}
