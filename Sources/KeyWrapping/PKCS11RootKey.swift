import EnvelopeCrypto
import PKCS11

/// A root key that lives in a PKCS#11 token (an HSM, a cloud HSM, SoftHSM2 in tests): KEKs are
/// wrapped and unwrapped inside the token with `CKM_AES_GCM`, so this process never holds the
/// root key's bytes.
///
/// The envelopes are exactly envelope v1 (`0x01 | nonce | ciphertext | tag`) with the usual
/// AAD `kek/v1|kek=<id>|root=<root id>`; the 12-byte nonce is drawn here from the same CSPRNG
/// the in-memory keys use, and the tag is 128 bits. Any program holding the key (or a PKCS#11
/// session on the token) opens them the same way.
///
/// One session per object: keep one per thread (`RootKeys` is per thread already).
public final class PKCS11RootKey: RootKey {
    /// The environment variable read for the PIN when the URI has no `pin-source`.
    public static let pinVariable = "KEK_PKCS11_PIN"

    public let rootKeyID: String
    /// Where the key is (no PIN: a URI carrying one is refused).
    public let uri: PKCS11URI
    private let session: PKCS11Session
    private let key: PKCS11Object

    private init(id: String, uri: PKCS11URI, session: PKCS11Session, key: PKCS11Object) {
        rootKeyID = id
        self.uri = uri
        self.session = session
        self.key = key
    }

    /// Opens the key named by `uri` and refuses one whose bytes could leave the token.
    public static func open(id: String, uri: PKCS11URI, environment: [String: String]) throws -> PKCS11RootKey {
        let session = try openSession(uri, environment: environment)
        let key = try session.secretKey(label: uri.object)
        try session.requireProtectedAESKey(key, byteCount: SymmetricKey.byteCount)
        return PKCS11RootKey(id: id, uri: uri, session: session, key: key)
    }

    /// Generates a new root key object in the token (AES-256, token, sensitive, not
    /// extractable) and opens it; refuses when any object already has the label.
    public static func generate(id: String, uri: PKCS11URI, environment: [String: String]) throws -> PKCS11RootKey {
        let session = try openSession(uri, environment: environment)
        guard try !session.hasObject(label: uri.object) else {
            throw PKCS11Error.objectExists(label: uri.object, token: uri.token)
        }
        let key = try session.generateProtectedAESKey(label: uri.object, byteCount: SymmetricKey.byteCount)
        try session.requireProtectedAESKey(key, byteCount: SymmetricKey.byteCount)
        return PKCS11RootKey(id: id, uri: uri, session: session, key: key)
    }

    private static func openSession(_ uri: PKCS11URI, environment: [String: String]) throws -> PKCS11Session {
        let module = try PKCS11Module.load(path: uri.modulePath)
        let pin = try PIN.load(file: uri.pinFile, environment: environment, variable: pinVariable)
        let origin = uri.pinFile.map { "file \($0)" } ?? pinVariable
        return try PKCS11Session.open(module: module, tokenLabel: uri.token, pin: pin, pinOrigin: origin)
    }

    /// AES-CMAC(key, `RootKeyCheckValue.label`), computed inside the token (`cmacScheme`).
    public func checkValue() throws -> RootKeyCheckValue {
        RootKeyCheckValue(bytes: try session.cmacAES(key: key, message: Array(RootKeyCheckValue.label.utf8)),
                          scheme: RootKeyCheckValue.cmacScheme)
    }

    public func wrapKEK(_ kek: SymmetricKey, kekID: Int32) throws -> [UInt8] {
        do {
            let nonce = try randomBytes(count: AESGCMContext.nonceByteCount)
            let sealed = try kek.withUnsafeBytes { plaintext in
                try session.encryptAESGCM(key: key, iv: nonce, aad: AAD.kek(id: kekID, rootKeyID: rootKeyID), plaintext: plaintext)
            }
            return [Envelope.version] + nonce + sealed
        } catch {
            throw KeyWrappingError(.wrap, .kek(id: kekID, rootKeyID: rootKeyID), reason: Self.envelopeError(error))
        }
    }

    public func unwrapKEK(_ envelope: [UInt8], kekID: Int32) throws -> SymmetricKey {
        do {
            let count = try Envelope.plaintextCount(forEnvelopeCount: envelope.count)
            guard envelope[0] == Envelope.version else { throw EnvelopeError.unknownVersion(envelope[0]) }
            guard count == SymmetricKey.byteCount else {
                throw EnvelopeError.plaintextLengthMismatch(expected: SymmetricKey.byteCount, found: count)
            }
            let nonce = Array(envelope[1...AESGCMContext.nonceByteCount])
            return try envelope.withUnsafeBytes { bytes in
                let sealed = UnsafeRawBufferPointer(rebasing: bytes[(1 + AESGCMContext.nonceByteCount)...])
                return try session.decryptAESGCM(key: key, iv: nonce, aad: AAD.kek(id: kekID, rootKeyID: rootKeyID),
                                                 ciphertextAndTag: sealed) { try SymmetricKey(copying: $0) }
            }
        } catch {
            throw KeyWrappingError(.unwrap, .kek(id: kekID, rootKeyID: rootKeyID), reason: Self.envelopeError(error))
        }
    }

    /// A tag that does not verify is `authenticationFailed`, as for keys in memory; any other
    /// token failure keeps its function and `CKR_` code. PKCS#11 v3.0 specifies
    /// `CKR_ENCRYPTED_DATA_INVALID` for a GCM tag mismatch; SoftHSM2 2.6 answers
    /// `CKR_GENERAL_ERROR` from `C_Decrypt` (after `C_DecryptInit` accepted key and parameters).
    static func envelopeError(_ error: any Error) -> any Error {
        guard let failure = error as? PKCS11Error else { return error }
        if case let .call(function, code, _) = failure, function == "C_Decrypt",
           code == "CKR_ENCRYPTED_DATA_INVALID" || code == "CKR_GENERAL_ERROR" {
            return EnvelopeError.authenticationFailed
        }
        return EnvelopeError.keyProviderFailure(reason: "\(failure)")
    }
}

@available(*, unavailable, message: "holds a PKCS#11 session; open one per thread")
extension PKCS11RootKey: Sendable {}
