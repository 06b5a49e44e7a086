internal import CLibCrypto
import CSystemHardening
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `SymmetricKey` bytes live: 32-byte slots in page-aligned chunks that are excluded
/// from core dumps (`MADV_DONTDUMP`) and locked in RAM (`mlock`) so they never reach swap.
///
/// Why a pool: both calls work on whole pages, and a key is 32 bytes; one page per key would
/// make millions of DEKs cost gigabytes. A freed slot is wiped by its key and kept for the
/// next key; chunks are never returned (the pool's size is the most keys alive at once).
///
/// Where the system does not allow it: `mlock` fails when `RLIMIT_MEMLOCK` is smaller than
/// the pool (64 KiB on older kernels, 8 MiB on newer; unlimited for root with
/// CAP_IPC_LOCK). The keys then stay in unlocked (swappable) pages, still out of core
/// dumps, and one warning is printed on stderr. Where `mmap` itself fails, slots come from
/// the ordinary heap (process-wide `PR_SET_DUMPABLE 0` and `RLIMIT_CORE 0` still apply).
enum KeyMemory {
    static let slotSize = 32
    static let chunkSize = 64 * 1024

    private struct Pool: ~Copyable {
        var free: [UInt] = []
        var chunks = 0
        var lockWarned = false
    }

    private static let pool = Mutex(Pool())

    /// A zeroed 32-byte slot.
    static func allocate() -> UnsafeMutableRawPointer {
        let (slot, warning) = pool.withLock { pool -> (UInt, String?) in
            var warning: String?
            if pool.free.isEmpty {
                let (base, problem) = mapChunk()
                if let problem, !pool.lockWarned {
                    pool.lockWarned = true
                    warning = problem
                }
                pool.chunks += 1
                pool.free.reserveCapacity(pool.free.count + chunkSize / slotSize)
                for offset in stride(from: chunkSize - slotSize, through: 0, by: -slotSize) {
                    pool.free.append(base + UInt(offset))
                }
            }
            return (pool.free.removeLast(), warning)
        }
        if let warning {
            let line = Array("kek: warning: \(warning)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
        let pointer = UnsafeMutableRawPointer(bitPattern: slot)!
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: slotSize)
        return pointer
    }

    /// Wipes the slot and keeps it for the next key.
    static func release(_ pointer: UnsafeMutableRawPointer) {
        OPENSSL_cleanse(pointer, slotSize)
        pool.withLock { $0.free.append(UInt(bitPattern: pointer)) }
    }

    /// Whether the pool's pages are locked (false until the first key, or where refused).
    static var locked: Bool { pool.withLock { $0.chunks > 0 && !$0.lockWarned } }

    /// A new chunk's address and, when it could not be locked or mapped, why.
    private static func mapChunk() -> (UInt, String?) {
        #if os(Linux)
        let mapped = mmap(nil, chunkSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            let heap = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
            return (UInt(bitPattern: heap), "cannot map key memory (\(String(cString: strerror(errno)))); keys use ordinary heap pages")
        }
        _ = madvise(mapped, chunkSize, MADV_DONTDUMP)
        if mlock(mapped, chunkSize) != 0 {
            let reason = String(cString: strerror(errno))
            let limit = CSystemHardening_memlockLimit()
            let shown = limit == UInt64.max ? "unlimited" : "\(limit) bytes"
            return (UInt(bitPattern: mapped), "cannot mlock key memory (\(reason); RLIMIT_MEMLOCK is \(shown)): "
                    + "keys may be swapped to disk; they stay out of core dumps. Raise LimitMEMLOCK to lock them")
        }
        return (UInt(bitPattern: mapped), nil)
        #else
        return (UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)), nil)
        #endif
    }
}

