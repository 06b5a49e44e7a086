internal import CPKCS11

/// AES-GCM and AES-CMAC computed inside the token: the key's bytes stay there.
extension PKCS11Session {
    /// Tag size used for GCM: the full 128 bits.
    public static let gcmTagByteCount = 16

    /// `CKM_AES_GCM` encryption with a caller-chosen 12-byte `iv`; returns ciphertext || tag.
    public func encryptAESGCM(key: PKCS11Object, iv: [UInt8], aad: [UInt8], plaintext: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + Self.gcmTagByteCount)
        let produced = try output.withUnsafeMutableBytes { output in
            try runGCM(encrypting: true, key: key, iv: iv, aad: aad, input: plaintext, output: output)
        }
        guard produced == output.count else {
            throw PKCS11Error.call(function: "C_Encrypt", code: "unexpected output length \(produced)", context: operation("CKM_AES_GCM", key))
        }
        return output
    }

    /// `CKM_AES_GCM` decryption of ciphertext || tag. The plaintext is lent to `body` in a buffer
    /// wiped afterwards. A tag that does not verify fails in `C_Decrypt` (PKCS#11 v3.0 says
    /// `CKR_ENCRYPTED_DATA_INVALID`; SoftHSM2 2.6 answers `CKR_GENERAL_ERROR`).
    public func decryptAESGCM<R>(
        key: PKCS11Object, iv: [UInt8], aad: [UInt8], ciphertextAndTag: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        // Some modules want room for the whole input before they know the tag's size.
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(ciphertextAndTag.count, 1), alignment: 16)
        defer {
            wipe(output)
            output.deallocate()
        }
        let produced = try runGCM(encrypting: false, key: key, iv: iv, aad: aad, input: ciphertextAndTag, output: output)
        guard produced == ciphertextAndTag.count - Self.gcmTagByteCount else {
            throw PKCS11Error.call(function: "C_Decrypt", code: "unexpected output length \(produced)", context: operation("CKM_AES_GCM", key))
        }
        return try body(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
    }

    /// One single-part GCM operation (`C_EncryptInit` + `C_Encrypt`, or the decrypt pair) under
    /// the session lock; returns the bytes written to `output`.
    private func runGCM(
        encrypting: Bool, key: PKCS11Object, iv: [UInt8], aad: [UInt8],
        input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        let names = encrypting ? ("C_EncryptInit", "C_Encrypt") : ("C_DecryptInit", "C_Decrypt")
        var produced = CK_ULONG(output.count)
        try withGCM(iv: iv, aad: aad) { mechanism in
            try withLock { functions in
                guard let begin = encrypting ? functions.C_EncryptInit : functions.C_DecryptInit,
                      let run = encrypting ? functions.C_Encrypt : functions.C_Decrypt else {
                    throw PKCS11Error.notAModule(path: module.path, reason: "it lacks \(names.1)")
                }
                try check(begin(handle, mechanism, key.handle), names.0, operation("CKM_AES_GCM", key))
                let data = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: CK_BYTE.self))
                try check(run(handle, data, CK_ULONG(input.count), output.baseAddress?.assumingMemoryBound(to: CK_BYTE.self), &produced),
                          names.1, operation("CKM_AES_GCM", key))
            }
        }
        return Int(produced)
    }

    /// `CKM_AES_CMAC` (full 16-byte MAC) of `message` under `key`.
    public func cmacAES(key: PKCS11Object, message: [UInt8]) throws -> [UInt8] {
        var message = message
        var mac = [UInt8](repeating: 0, count: 16)
        var produced = CK_ULONG(mac.count)
        var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_CMAC), pParameter: nil, ulParameterLen: 0)
        try withLock { functions in
            guard let initSign = functions.C_SignInit, let sign = functions.C_Sign else {
                throw PKCS11Error.notAModule(path: module.path, reason: "it lacks C_Sign")
            }
            try check(initSign(handle, &mechanism, key.handle), "C_SignInit", operation("CKM_AES_CMAC", key))
            try check(sign(handle, &message, CK_ULONG(message.count), &mac, &produced), "C_Sign", operation("CKM_AES_CMAC", key))
        }
        return Array(mac.prefix(Int(produced)))
    }

    private func operation(_ mechanism: String, _ key: PKCS11Object) -> String {
        "\(mechanism) with key '\(key.label)' in token '\(tokenLabel)'"
    }

    /// A `CK_MECHANISM` for `CKM_AES_GCM` with a 128-bit tag, valid during `body`.
    private func withGCM<R>(iv: [UInt8], aad: [UInt8], _ body: (UnsafeMutablePointer<CK_MECHANISM>) throws -> R) throws -> R {
        var iv = iv
        var aad = aad
        return try iv.withUnsafeMutableBufferPointer { ivBuffer in
            try aad.withUnsafeMutableBufferPointer { aadBuffer in
                var parameters = CK_GCM_PARAMS(
                    pIv: ivBuffer.baseAddress, ulIvLen: CK_ULONG(ivBuffer.count), ulIvBits: CK_ULONG(ivBuffer.count * 8),
                    pAAD: aadBuffer.baseAddress, ulAADLen: CK_ULONG(aadBuffer.count), ulTagBits: CK_ULONG(Self.gcmTagByteCount * 8))
                return try withUnsafeMutablePointer(to: &parameters) { pointer in
                    var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM), pParameter: UnsafeMutableRawPointer(pointer),
                                                 ulParameterLen: CK_ULONG(MemoryLayout<CK_GCM_PARAMS>.size))
                    return try body(&mechanism)
                }
            }
        }
    }
}
