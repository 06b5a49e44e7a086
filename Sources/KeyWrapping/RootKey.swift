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
    /// 16 bytes that identify the key without revealing it: the same key always gives the
    /// same value, another key (with overwhelming probability) another one.
    func checkValue() throws -> [UInt8]
    /// How `checkValue()` is computed, recorded beside it (`RootKeyCheck.hmacScheme` or `.cmacScheme`).
    var checkScheme: String { get }
}

/// The fixed input of root key check values and the names of the two ways of computing them.
public enum RootKeyCheck {
    /// The message both schemes authenticate.
    public static let label = Array("kek/v1|root-key-check".utf8)
    /// Keys in memory: the first 16 bytes of HMAC-SHA256(key, label).
    public static let hmacScheme = "hmac-sha256-16/v1"
    /// Keys in a PKCS#11 token: AES-CMAC(key, label), 16 bytes, computed inside the token
    /// (SoftHSM2 refuses `CKM_SHA256_HMAC` with an AES key object; CMAC is the AES-native MAC).
    public static let cmacScheme = "aes-cmac-16/v1"
    /// Size of a check value.
    public static let byteCount = 16
}
