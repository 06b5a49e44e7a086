internal import CLibCrypto

/// HMAC-SHA256 from OpenSSL, for values that must identify a key without revealing it
/// (root key check values). The key is lent as a buffer so it never passes through an array.
public enum HMACSHA256 {
    /// Size of a tag in bytes.
    public static let byteCount = 32

    /// The HMAC of the UTF-8 bytes of `message` under `key`.
    public static func mac(key: UnsafeRawBufferPointer, message: String) -> [UInt8] {
        var message = message
        return message.withUTF8 { text in
            [UInt8](unsafeUninitializedCapacity: byteCount) { output, initialized in
                var length: UInt32 = 0
                // HMAC over in-memory input with SHA-256 cannot fail; it returns its output pointer.
                _ = HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), text.baseAddress, text.count,
                         output.baseAddress, &length)
                initialized = Int(length)
            }
        }
    }
}
