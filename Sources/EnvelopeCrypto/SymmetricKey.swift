internal import CLibCrypto

/// A 256-bit key held in memory that this type owns, so it can be wiped when the key is no
/// longer referenced.
///
/// Why a class and not `[UInt8]`: Swift arrays are copied and moved freely and their storage is
/// never wiped, so key bytes held in them linger in freed memory. `SymmetricKey` keeps the bytes
/// in a `KeyMemory` slot (mlock'ed, MADV_DONTDUMP) that is overwritten with `OPENSSL_cleanse`
/// in `deinit`.
///
/// Deliberately not `Codable`, and its `description` shows only a fingerprint, so a key can be
/// logged or put in an error by mistake without revealing it.
public final class SymmetricKey {
    /// The only supported size: AES-256.
    public static let byteCount = 32

    private let storage: UnsafeMutableRawPointer

    /// Fills a fresh buffer through `fill`; the buffer is wiped if `fill` throws.
    init(unsafeUninitializedFill fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        storage = try Self.makeStorage(fill)
    }

    /// A new key from OpenSSL's CSPRNG: the way to create every key this program generates.
    public static func random() throws -> SymmetricKey {
        try SymmetricKey { buffer in try fillRandom(buffer) }
    }

    /// Copies `bytes` (exactly 32) into memory this key owns.
    ///
    /// The caller's array cannot be wiped reliably (Swift may already have copied it), so prefer
    /// `random()`, keys opened from envelopes, or `init(copying:)` from a buffer you wipe
    /// yourself. This initializer is for test vectors and imports.
    public init(bytes: [UInt8]) throws {
        storage = try bytes.withUnsafeBytes { source in try Self.makeStorage(copying: source) }
    }

    /// Copies exactly 32 bytes from `buffer`; the caller remains responsible for wiping `buffer`.
    public init(copying buffer: UnsafeRawBufferPointer) throws {
        storage = try Self.makeStorage(copying: buffer)
    }

    private static func makeStorage(copying source: UnsafeRawBufferPointer) throws -> UnsafeMutableRawPointer {
        guard source.count == byteCount, let base = source.baseAddress else {
            throw EnvelopeError.invalidKeyLength(source.count)
        }
        return makeStorage { $0.baseAddress!.copyMemory(from: base, byteCount: byteCount) }
    }

    private static func makeStorage(
        _ fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows -> UnsafeMutableRawPointer {
        let pointer = KeyMemory.allocate()
        do {
            try fill(UnsafeMutableRawBufferPointer(start: pointer, count: byteCount))
        } catch {
            KeyMemory.release(pointer)
            throw error
        }
        return pointer
    }

    /// Wipes the bytes; the slot goes back to `KeyMemory` (locked, out of core dumps).
    deinit {
        KeyMemory.release(storage)
    }

    /// Lends the key bytes to `body`; do not let the pointer escape or copy the bytes into arrays.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: Self.byteCount))
    }

    /// First 8 hex digits of SHA-256 of the key: enough to tell keys apart in logs and to check
    /// that two processes loaded the same key, without revealing anything usable.
    public var fingerprint: String {
        let digest = withUnsafeBytes { SHA256.hash($0) }
        return Hex.encode(digest.prefix(4))
    }

    /// Constant-time comparison, so that comparing keys never leaks timing about their bytes.
    public func constantTimeEquals(_ other: SymmetricKey) -> Bool {
        CRYPTO_memcmp(storage, other.storage, Self.byteCount) == 0
    }
}

extension SymmetricKey: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "SymmetricKey(fingerprint: \(fingerprint))" }
    public var debugDescription: String { description }
}

// The key bytes are written once, in `init`, and only read afterwards; `deinit` runs only when
// no reference is left. So sharing a key between threads is safe even though it holds a raw
// pointer, which Swift cannot check by itself.
extension SymmetricKey: @unchecked Sendable {}
