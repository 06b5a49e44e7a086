import Foundation
import XCTest

@testable import EnvelopeCrypto

#if canImport(Glibc)
import Glibc
#endif

final class NonceTests: XCTestCase {
    /// Nonces come from a pooled CSPRNG block; they must never repeat across refills.
    func testNoncesAreUniqueAcrossRefills() throws {
        let context = try AESGCMContext(key: SymmetricKey.random())
        var seen = Set<[UInt8]>()
        let count = NoncePool.noncesPerRefill * 8 + 3
        for _ in 0..<count {
            let envelope = try context.seal([1, 2, 3], aad: [])
            seen.insert(Array(envelope[1..<13]))
        }
        XCTAssertEqual(seen.count, count)
        XCTAssertEqual(context.sealCount, count)
    }

    #if canImport(Glibc)
    /// A forked child must not take the nonces left in its parent's pool.
    func testForkedChildDrawsFreshNonces() throws {
        let context = try AESGCMContext(key: SymmetricKey.random())
        _ = try context.seal([0], aad: [])  // fills the pool
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let pid = fork()
        if pid == 0 {
            var nonce = [UInt8](repeating: 0, count: 12)
            let ok = nonce.withUnsafeMutableBytes { (try? context.nextNonce(into: $0)) != nil }
            _ = nonce.withUnsafeBytes { write(fds[1], $0.baseAddress, ok ? 12 : 0) }
            _exit(0)
        }
        XCTAssertGreaterThan(pid, 0)
        close(fds[1])
        var childNonce = [UInt8](repeating: 0, count: 12)
        let received = childNonce.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, 12) }
        close(fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(received, 12)
        var parentNonce = [UInt8](repeating: 0, count: 12)
        try parentNonce.withUnsafeMutableBytes { try context.nextNonce(into: $0) }
        XCTAssertNotEqual(childNonce, parentNonce, "child reused the parent's pooled nonce")
    }
    #endif
}
