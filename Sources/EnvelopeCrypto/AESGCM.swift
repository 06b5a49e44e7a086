internal import CLibCrypto

/// AES-256-GCM under one key, set up once and reused for many messages.
///
/// Why a long-lived context: the AES key schedule and OpenSSL's provider lookup cost more than
/// encrypting a 32-byte key. Re-wrapping millions of keys keeps one context per key and only
/// sets a new nonce per message.
///
/// Not `Sendable`: an `EVP_CIPHER_CTX` carries per-message state, so each thread needs its own
/// context (create one per worker thread from the shared `SymmetricKey`).
public final class AESGCMContext {
    /// Nonce size: 96 bits, the size GCM is designed for (NIST SP 800-38D §5.2.1.1).
    public static let nonceByteCount = 12
    /// Tag size: the full 128 bits.
    public static let tagByteCount = 16

    /// Encryptions with random nonces made by this context since it was created or since the
    /// last `takeSealCount()`. NIST SP 800-38D §8.3 allows at most 2^32 per key, so callers
    /// add this to a persistent per-key counter after each batch and stop before a limit.
    public private(set) var sealCount = 0

    /// Fingerprint of the key, to name the key in logs and errors.
    public let keyFingerprint: String

    // Two contexts, one per direction, each keyed once: switching one context's direction per
    // message would be re-initialisation work on the hot path.
    private let encryptContext: OpaquePointer
    private let decryptContext: OpaquePointer
    /// Where `Final` may write (GCM writes nothing there, but OpenSSL wants a valid pointer).
    private let finalScratch: UnsafeMutablePointer<UInt8>
    private var noncePool = NoncePool()

    /// Sets up the key schedule for both directions.
    public init(key: SymmetricKey) throws {
        guard let encrypt = EVP_CIPHER_CTX_new() else { throw openSSLFailure("EVP_CIPHER_CTX_new") }
        guard let decrypt = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_CTX_free(encrypt)
            throw openSSLFailure("EVP_CIPHER_CTX_new")
        }
        let keyed = key.withUnsafeBytes { bytes -> Bool in
            let keyPointer = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            return EVP_CipherInit_ex(encrypt, EVP_aes_256_gcm(), nil, keyPointer, nil, 1) == 1
                && EVP_CipherInit_ex(decrypt, EVP_aes_256_gcm(), nil, keyPointer, nil, 0) == 1
        }
        guard keyed else {
            EVP_CIPHER_CTX_free(encrypt)
            EVP_CIPHER_CTX_free(decrypt)
            throw openSSLFailure("EVP_CipherInit_ex")
        }
        encryptContext = encrypt
        decryptContext = decrypt
        finalScratch = .allocate(capacity: 16)
        finalScratch.initialize(repeating: 0, count: 16)
        keyFingerprint = key.fingerprint
    }

    deinit {
        // EVP_CIPHER_CTX_free wipes the key schedule before freeing it.
        EVP_CIPHER_CTX_free(encryptContext)
        EVP_CIPHER_CTX_free(decryptContext)
        finalScratch.deallocate()
    }

    /// Returns `sealCount` and resets it, for adding each batch's seals to a stored counter once.
    public func takeSealCount() -> Int {
        defer { sealCount = 0 }
        return sealCount
    }

    /// Encrypts with a caller-chosen nonce. Internal: a repeated nonce under one key breaks GCM,
    /// so public sealing always draws the nonce itself. `ciphertext.count == plaintext.count`.
    func encrypt(
        nonce: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        ciphertext: UnsafeMutableRawBufferPointer,
        tag: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(nonce.count == Self.nonceByteCount && tag.count == Self.tagByteCount)
        precondition(ciphertext.count == plaintext.count)
        guard plaintext.count <= Int(Int32.max), aad.count <= Int(Int32.max) else {
            throw EnvelopeError.tooLong(length: max(plaintext.count, aad.count))
        }
        let ctx = encryptContext
        guard EVP_EncryptInit_ex(ctx, nil, nil, nil, bytes(nonce)) == 1 else {
            throw openSSLFailure("EVP_EncryptInit_ex")
        }
        var written: Int32 = 0
        if aad.count > 0 {
            guard EVP_EncryptUpdate(ctx, nil, &written, bytes(aad), Int32(aad.count)) == 1 else {
                throw openSSLFailure("EVP_EncryptUpdate(aad)")
            }
        }
        if plaintext.count > 0 {
            guard EVP_EncryptUpdate(ctx, mutableBytes(ciphertext), &written, bytes(plaintext), Int32(plaintext.count)) == 1,
                  Int(written) == plaintext.count
            else { throw openSSLFailure("EVP_EncryptUpdate") }
        }
        guard EVP_EncryptFinal_ex(ctx, finalScratch, &written) == 1, written == 0 else {
            throw openSSLFailure("EVP_EncryptFinal_ex")
        }
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagByteCount), tag.baseAddress) > 0 else {
            throw openSSLFailure("EVP_CIPHER_CTX_ctrl(GET_TAG)")
        }
    }

    /// Decrypts and verifies. On any failure `plaintext` is wiped before the error is thrown,
    /// because GCM writes plaintext before it can check the tag.
    func decrypt(
        nonce: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        plaintext: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(nonce.count == Self.nonceByteCount && tag.count == Self.tagByteCount)
        precondition(plaintext.count == ciphertext.count)
        guard ciphertext.count <= Int(Int32.max), aad.count <= Int(Int32.max) else {
            throw EnvelopeError.tooLong(length: max(ciphertext.count, aad.count))
        }
        do {
            try decryptUnchecked(nonce: nonce, ciphertext: ciphertext, tag: tag, aad: aad, plaintext: plaintext)
        } catch {
            secureZero(plaintext)
            throw error
        }
    }

    private func decryptUnchecked(
        nonce: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        plaintext: UnsafeMutableRawBufferPointer
    ) throws {
        let ctx = decryptContext
        guard EVP_DecryptInit_ex(ctx, nil, nil, nil, bytes(nonce)) == 1 else {
            throw openSSLFailure("EVP_DecryptInit_ex")
        }
        // OpenSSL only reads the tag here; the API takes a non-const pointer.
        let tagPointer = UnsafeMutableRawPointer(mutating: tag.baseAddress)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagByteCount), tagPointer) > 0 else {
            throw openSSLFailure("EVP_CIPHER_CTX_ctrl(SET_TAG)")
        }
        var written: Int32 = 0
        if aad.count > 0 {
            guard EVP_DecryptUpdate(ctx, nil, &written, bytes(aad), Int32(aad.count)) == 1 else {
                throw openSSLFailure("EVP_DecryptUpdate(aad)")
            }
        }
        if ciphertext.count > 0 {
            guard EVP_DecryptUpdate(ctx, mutableBytes(plaintext), &written, bytes(ciphertext), Int32(ciphertext.count)) == 1,
                  Int(written) == ciphertext.count
            else { throw openSSLFailure("EVP_DecryptUpdate") }
        }
        // 1 means the tag verified. A mismatch returns 0 (never a negative value), so anything
        // but 1 is treated as a failure.
        guard EVP_DecryptFinal_ex(ctx, finalScratch, &written) == 1 else {
            ERR_clear_error()
            throw EnvelopeError.authenticationFailed
        }
    }

    /// A fresh random nonce for the next seal.
    @inline(__always)
    func nextNonce(into nonce: UnsafeMutableRawBufferPointer) throws {
        try noncePool.next(into: nonce)
    }

    /// Counts a seal; called by the envelope code after a successful random-nonce encryption.
    func recordSeal() {
        sealCount &+= 1
    }
}

@available(*, unavailable, message: "an AESGCMContext holds per-message OpenSSL state; create one per thread")
extension AESGCMContext: Sendable {}

@inline(__always)
private func bytes(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>? {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
}

@inline(__always)
private func mutableBytes(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8>? {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
}
