internal import CLibCrypto
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random nonces drawn from OpenSSL's CSPRNG in blocks instead of one `RAND_bytes` call each.
///
/// Why: a `RAND_bytes` call costs several thousand instructions in OpenSSL 3 (DRBG locking and
/// bookkeeping), more than sealing a 32-byte key, so one call per seal halved the rewrap rate.
/// The nonces are exactly as random as before (consecutive CSPRNG output) and are used once each.
///
/// Fork safety: a child process would inherit the unused part of the block and could reuse
/// nonces that the parent also uses. A `pthread_atfork` child handler bumps a generation counter,
/// and a pool whose generation is stale is discarded before the next nonce is taken.
struct NoncePool: ~Copyable {
    static let noncesPerRefill = 128
    private static let blockSize = noncesPerRefill * AESGCMContext.nonceByteCount

    private let block: UnsafeMutableRawPointer
    private var offset: Int
    private var generation: UInt64

    init() {
        _ = forkHandlerRegistration
        block = .allocate(byteCount: Self.blockSize, alignment: 16)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: Self.blockSize)
        offset = Self.blockSize  // empty: the first nonce refills
        generation = forkGeneration.load(ordering: .relaxed)
    }

    deinit {
        block.deallocate()
    }

    /// Writes the next unused random nonce into `nonce` (12 bytes).
    @inline(__always)
    mutating func next(into nonce: UnsafeMutableRawBufferPointer) throws {
        let size = AESGCMContext.nonceByteCount
        precondition(nonce.count == size)
        let current = forkGeneration.load(ordering: .relaxed)
        if offset + size > Self.blockSize || current != generation {
            try fillRandom(UnsafeMutableRawBufferPointer(start: block, count: Self.blockSize))
            offset = 0
            generation = current
        }
        nonce.baseAddress!.copyMemory(from: block + offset, byteCount: size)
        // Overwrite the used nonce so it can never be handed out again, even by mistake.
        (block + offset).initializeMemory(as: UInt8.self, repeating: 0, count: size)
        offset += size
    }
}

/// Incremented in every child process right after `fork()`.
private let forkGeneration = Atomic<UInt64>(0)

/// Registers the fork handler once per process (global `let`s are initialised lazily and once).
private let forkHandlerRegistration: Void = {
    let result = pthread_atfork(nil, nil) {
        forkGeneration.add(1, ordering: .relaxed)
    }
    precondition(result == 0, "pthread_atfork failed")
}()
