internal import CLibCrypto

/// HMAC-SHA256 from OpenSSL under a `SymmetricKey`, for identifying a key by a value that
/// reveals nothing about it (a key check value).
public enum HMACSHA256 {
    /// Size of a MAC in bytes.
    public static let byteCount = 32

    /// HMAC-SHA256(key, message), computed without copying the key out of its memory.
    public static func authenticationCode(key: SymmetricKey, message: [UInt8]) throws -> [UInt8] {
        try key.withUnsafeBytes { keyBytes in
            try message.withUnsafeBytes { messageBytes in
                var length: UInt32 = 0
                var mac = [UInt8](repeating: 0, count: byteCount)
                let result = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                                  messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count, &mac, &length)
                guard result != nil, Int(length) == byteCount else { throw openSSLFailure("HMAC") }
                return mac
            }
        }
    }
}
