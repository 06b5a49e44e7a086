import EnvelopeCrypto

/// A root key that wraps and unwraps KEKs (`kek/v1|kek=<id>|root=<root id>`, envelope v1) and
/// identifies itself by a check value, wherever its bytes are.
///
/// Two kinds: `RootKeyCipher` (bytes in this process's memory, from `KEK_ROOT_KEYS`) and
/// `PKCS11RootKey` (an object in an HSM token that this process can use but never read).
/// Both produce exactly the same envelopes, so either opens what the other wrapped under the
/// same key, and another program reads them with the documented AAD. Not shareable between
/// threads: keep one per root key per thread.
public protocol RootKey: AnyObject {
    /// The id the root key has in the keyring; part of every KEK's associated data.
    var rootKeyID: String { get }
    /// Wraps a KEK so it can be stored in `keks.wrapped_key`.
    func wrapKEK(_ kek: SymmetricKey, kekID: Int32) throws -> [UInt8]
    /// Unwraps a KEK straight into key memory.
    func unwrapKEK(_ envelope: [UInt8], kekID: Int32) throws -> SymmetricKey
    /// 16 bytes that identify the key without revealing it, with the name of their computation:
    /// the same key always gives the same value, another key (with overwhelming probability)
    /// another one. Recorded in `root_keys` the first time the key is used.
    func checkValue() throws -> RootKeyCheckValue
}
