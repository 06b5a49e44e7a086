/// Envelope format v1, the byte layout stored in every ciphertext column:
/// `0x01 | nonce (12) | ciphertext (same length as plaintext) | tag (16)`.
///
/// It is an interoperability contract (other languages read and write it), so its constants live
/// in one place and the layout is tested against an envelope made by another implementation.
public enum Envelope {
    /// The version byte this build writes and reads.
    public static let version: UInt8 = 0x01
    /// Bytes added to the plaintext: version, nonce, tag.
    public static let overhead = 1 + AESGCMContext.nonceByteCount + AESGCMContext.tagByteCount
    /// The shortest valid envelope (empty plaintext): 29 bytes.
    public static let minimumLength = overhead

    /// Envelope size for a plaintext of `plaintextCount` bytes, to size output buffers.
    public static func length(forPlaintextCount plaintextCount: Int) -> Int {
        plaintextCount + overhead
    }

    /// Plaintext size inside an envelope of `envelopeCount` bytes, after checking that the
    /// envelope is long enough. Does not look at the version byte.
    public static func plaintextCount(forEnvelopeCount envelopeCount: Int) throws -> Int {
        guard envelopeCount >= minimumLength else {
            throw EnvelopeError.truncated(length: envelopeCount, minimum: minimumLength)
        }
        return envelopeCount - overhead
    }
}

extension AESGCMContext {
    // MARK: - Sealing

    /// Seals `plaintext` into a new v1 envelope bound to `aad`, with a fresh random nonce.
    public func seal(_ plaintext: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { plaintext in
            try aad.withUnsafeBytes { aad in try seal(plaintext, aad: aad) }
        }
    }

    /// Seals a key without copying its bytes out of the key's own memory.
    public func seal(_ key: SymmetricKey, aad: [UInt8]) throws -> [UInt8] {
        try key.withUnsafeBytes { plaintext in
            try aad.withUnsafeBytes { aad in try seal(plaintext, aad: aad) }
        }
    }

    /// Seals from raw memory, for plaintexts held in buffers the caller wipes.
    public func seal(_ plaintext: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) throws -> [UInt8] {
        let count = Envelope.length(forPlaintextCount: plaintext.count)
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try seal(plaintext, aad: aad, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Seals into `output`, which must be exactly `Envelope.length(forPlaintextCount:)` bytes:
    /// the allocation-free form for callers that manage their own buffers.
    public func seal(
        _ plaintext: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(
            output.count == Envelope.length(forPlaintextCount: plaintext.count),
            "seal(_:aad:into:) needs an output buffer of Envelope.length(forPlaintextCount:) bytes"
        )
        let nonceEnd = 1 + Self.nonceByteCount
        let tagStart = nonceEnd + plaintext.count
        output[0] = Envelope.version
        let nonce = UnsafeMutableRawBufferPointer(rebasing: output[1..<nonceEnd])
        try nextNonce(into: nonce)
        try encrypt(
            nonce: UnsafeRawBufferPointer(nonce),
            plaintext: plaintext,
            aad: aad,
            ciphertext: UnsafeMutableRawBufferPointer(rebasing: output[nonceEnd..<tagStart]),
            tag: UnsafeMutableRawBufferPointer(rebasing: output[tagStart...])
        )
        recordSeal()
    }

    // MARK: - Opening

    /// Opens a v1 envelope bound to `aad` and returns its plaintext.
    ///
    /// For keys use `openKey(_:aad:)` instead, so the key never sits in an array.
    public func open(_ envelope: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        let count = try Envelope.plaintextCount(forEnvelopeCount: envelope.count)
        return try envelope.withUnsafeBytes { envelope in
            try aad.withUnsafeBytes { aad in
                try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    // On failure `open(_:aad:into:)` has already wiped the buffer.
                    initialized = try open(envelope, aad: aad, into: UnsafeMutableRawBufferPointer(buffer))
                }
            }
        }
    }

    /// Opens an envelope that must hold a 32-byte key, decrypting straight into the key's own
    /// memory: the unwrap path leaves no copy of the key in Swift arrays.
    public func openKey(_ envelope: [UInt8], aad: [UInt8]) throws -> SymmetricKey {
        try envelope.withUnsafeBytes { envelope in
            try aad.withUnsafeBytes { aad in try openKey(envelope, aad: aad) }
        }
    }

    /// Raw-memory form of `openKey(_:aad:)`.
    public func openKey(_ envelope: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) throws -> SymmetricKey {
        let count = try checkedPlaintextCount(envelope)
        guard count == SymmetricKey.byteCount else {
            throw EnvelopeError.plaintextLengthMismatch(expected: SymmetricKey.byteCount, found: count)
        }
        return try SymmetricKey { keyBytes in _ = try open(envelope, aad: aad, into: keyBytes) }
    }

    /// Opens into `output` (at least the plaintext size) and returns the plaintext size.
    ///
    /// On any error nothing of the plaintext is left in `output`: GCM decrypts before it can
    /// check the tag, so the written bytes are wiped before the error is thrown.
    @discardableResult
    public func open(
        _ envelope: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        let count = try checkedPlaintextCount(envelope)
        guard output.count >= count else {
            throw EnvelopeError.plaintextLengthMismatch(expected: output.count, found: count)
        }
        let nonceEnd = 1 + Self.nonceByteCount
        let tagStart = nonceEnd + count
        try decrypt(
            nonce: UnsafeRawBufferPointer(rebasing: envelope[1..<nonceEnd]),
            ciphertext: UnsafeRawBufferPointer(rebasing: envelope[nonceEnd..<tagStart]),
            tag: UnsafeRawBufferPointer(rebasing: envelope[tagStart...]),
            aad: aad,
            plaintext: UnsafeMutableRawBufferPointer(rebasing: output[0..<count])
        )
        return count
    }

    // MARK: - Re-sealing

    /// Opens `envelope` with this context and seals its plaintext under `target` with `targetAAD`.
    ///
    /// This is the key-rotation hot path: the plaintext only ever lives in a temporary buffer
    /// that is wiped before returning, and both contexts are reused across calls.
    public func reseal(
        _ envelope: [UInt8],
        aad: [UInt8],
        under target: AESGCMContext,
        aad targetAAD: [UInt8]
    ) throws -> [UInt8] {
        try envelope.withUnsafeBytes { envelope in
            try aad.withUnsafeBytes { aad in
                try targetAAD.withUnsafeBytes { targetAAD in
                    try reseal(envelope, aad: aad, under: target, aad: targetAAD)
                }
            }
        }
    }

    /// Raw-memory form of `reseal(_:aad:under:aad:)`.
    public func reseal(
        _ envelope: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        under target: AESGCMContext,
        aad targetAAD: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        let count = try checkedPlaintextCount(envelope)
        return try withUnsafeTemporaryAllocation(byteCount: max(count, 1), alignment: 16) { scratch in
            let plaintext = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
            defer { secureZero(plaintext) }
            try open(envelope, aad: aad, into: plaintext)
            return try target.seal(UnsafeRawBufferPointer(plaintext), aad: targetAAD)
        }
    }

    /// Checks length and version, the two things that can be wrong before any cryptography.
    private func checkedPlaintextCount(_ envelope: UnsafeRawBufferPointer) throws -> Int {
        let count = try Envelope.plaintextCount(forEnvelopeCount: envelope.count)
        guard envelope[0] == Envelope.version else { throw EnvelopeError.unknownVersion(envelope[0]) }
        return count
    }
}
