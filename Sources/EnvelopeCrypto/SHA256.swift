internal import CLibCrypto

/// SHA-256 from OpenSSL, for key fingerprints and hash chains (each record hashing the previous
/// one) where a tamper-evident digest is needed, not secrecy.
public enum SHA256 {
    /// Size of a digest in bytes.
    public static let byteCount = 32

    /// Digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// Digest of the UTF-8 encoding of `text`, the form hash chains over text records use.
    public static func hash(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// Digest of a raw buffer, for data that must not be copied into an array first.
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { digest, initialized in
            // SHA256 cannot fail for in-memory input; it only returns its output pointer.
            _ = CLibCrypto.SHA256(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count, digest.baseAddress)
            initialized = byteCount
        }
    }
}
