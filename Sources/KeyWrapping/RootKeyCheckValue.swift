import EnvelopeCrypto

/// The non-reversible identity of a root key, recorded in `root_keys.check_value` the first
/// time kek uses that key, so a keyring that holds the same id with another key is refused.
///
/// Computed as the first 16 bytes of HMAC-SHA256 with the root key as the HMAC key over the
/// ASCII label `kek/v1|root-key-check` (README, "Root key check value"). A KCV in the usual
/// sense: it tells keys apart and reveals nothing usable about the key (HMAC is a PRF).
///
/// A root key in a PKCS#11 token cannot be fed to HMAC here: its value is AES-CMAC over the
/// same label, computed inside the token (`cmacScheme`). The scheme is part of the identity.
public struct RootKeyCheckValue: Equatable, Sendable, CustomStringConvertible {
    /// The label the HMAC is computed over; part of the format, never changes for `scheme`.
    public static let label = "kek/v1|root-key-check"
    /// Name of this computation, stored beside the value.
    public static let scheme = "hmac-sha256-16/v1"
    /// Name of the computation for keys in a PKCS#11 token: AES-CMAC(key, label), 16 bytes.
    public static let cmacScheme = "aes-cmac-16/v1"
    public static let byteCount = 16

    public let bytes: [UInt8]
    /// How `bytes` were computed (`RootKeyCheckValue.scheme` or `.cmacScheme`), as `root_keys.scheme` stores it.
    public let scheme: String

    public init(bytes: [UInt8], scheme: String = RootKeyCheckValue.scheme) {
        self.bytes = bytes
        self.scheme = scheme
    }

    /// The check value of a root key held in process memory.
    public init(of key: SymmetricKey) {
        bytes = Array(key.withUnsafeBytes { HMACSHA256.mac(key: $0, message: Self.label) }.prefix(Self.byteCount))
        scheme = Self.scheme
    }

    /// Hex, for messages (it is not secret, but it is not needed there either: ids suffice).
    public var description: String { Hex.encode(bytes) }
}
