import EnvelopeCrypto

/// A secret value in memory that this object alone owns, wiped when it is released.
///
/// Why a class and not `[UInt8]` passed around: byte arrays copied between structs leave
/// copies that nobody wipes; one owner with a wiping `deinit` keeps the plaintext in one
/// buffer. Not `Codable`, and `description` shows only the length, so a value cannot reach
/// a report, a log line or an error by accident.
public final class SecretBytes: CustomStringConvertible {
    /// Internal so that sealing can pass the buffer on without copying it.
    private(set) var bytes: [UInt8]

    /// Takes `bytes` over; the caller should not keep another reference to that array.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Copies `buffer`; the caller stays responsible for wiping `buffer`.
    public init(copying buffer: UnsafeRawBufferPointer) {
        bytes = Array(buffer)
    }

    deinit { wipe() }

    /// Number of bytes (not secret: lengths are visible in ciphertext sizes anyway).
    public var count: Int { bytes.count }

    /// Overwrites the value with zeros and empties it; later reads see zero bytes.
    public func wipe() {
        secureZero(&bytes)
        bytes.removeAll()
    }

    /// Lends the bytes to `body` (to write them to a file descriptor, for example).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    /// Compares with `other` in time that depends only on the lengths, so comparing a stored
    /// value with a candidate leaks nothing about where they differ.
    public func constantTimeEquals(_ other: [UInt8]) -> Bool {
        guard other.count == bytes.count else { return false }
        var difference: UInt8 = 0
        for index in bytes.indices { difference |= bytes[index] ^ other[index] }
        return difference == 0
    }

    public var description: String { "SecretBytes(\(bytes.count) bytes)" }
}
