internal import CLibCrypto

/// Bytes from OpenSSL's CSPRNG, for nonces, salts and identifiers that must not be guessable.
public func randomBytes(count: Int) throws -> [UInt8] {
    precondition(count >= 0, "randomBytes(count:) needs a non-negative count")
    return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        try fillRandom(UnsafeMutableRawBufferPointer(buffer))
        initialized = count
    }
}

/// Fills `buffer` from OpenSSL's CSPRNG. Used for nonces on the hot path, so it allocates nothing.
@inline(__always)
func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) throws {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    guard buffer.count <= Int(Int32.max) else { throw EnvelopeError.tooLong(length: buffer.count) }
    guard RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(buffer.count)) == 1 else {
        throw openSSLFailure("RAND_bytes")
    }
}
