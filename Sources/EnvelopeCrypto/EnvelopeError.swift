/// Why an envelope could not be sealed or opened.
///
/// Each case says what was wrong with the bytes, never the bytes themselves: these errors end up
/// in logs and job status, so they must carry no key material and no plaintext.
public enum EnvelopeError: Error, Equatable, Sendable {
    /// The value is shorter than the smallest possible envelope (version + nonce + tag).
    case truncated(length: Int, minimum: Int)
    /// The first byte is not a format version this build reads.
    case unknownVersion(UInt8)
    /// The GCM tag did not verify: wrong key, altered bytes, or associated data of another row.
    case authenticationFailed
    /// The envelope is intact but holds a plaintext of an unexpected size (for example not a key).
    case plaintextLengthMismatch(expected: Int, found: Int)
    /// A key of the wrong size was offered; only 32-byte keys are used.
    case invalidKeyLength(Int)
    /// A message longer than OpenSSL's `int` length parameters can take.
    case tooLong(length: Int)
    /// OpenSSL reported a failure that is not about the data (allocation, RNG, provider).
    case cryptoLibraryFailure(function: String, reason: String)
    /// A key held outside this process (in an HSM, behind PKCS#11) could not be used; `reason`
    /// names the module, token, function and return code.
    case keyProviderFailure(reason: String)
}

extension EnvelopeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .truncated(length, minimum):
            return "envelope is truncated: \(length) bytes found, at least \(minimum) needed "
                + "(1 version byte + 12 nonce bytes + 16 tag bytes)"
        case let .unknownVersion(byte):
            let hex = Hex.encode([byte])
            return "envelope has unknown version byte 0x\(hex) (this build reads version 0x01)"
        case .authenticationFailed:
            return "envelope failed authentication (GCM tag mismatch): wrong key, tampered bytes, "
                + "or wrong associated data (a value copied from another row)"
        case let .plaintextLengthMismatch(expected, found):
            return "envelope holds \(found) bytes of plaintext where \(expected) were expected"
        case let .invalidKeyLength(length):
            return "key must be \(SymmetricKey.byteCount) bytes, got \(length)"
        case let .tooLong(length):
            return "message of \(length) bytes is too long for one envelope"
        case let .cryptoLibraryFailure(function, reason):
            return "OpenSSL \(function) failed: \(reason)"
        case let .keyProviderFailure(reason):
            return reason
        }
    }
}
