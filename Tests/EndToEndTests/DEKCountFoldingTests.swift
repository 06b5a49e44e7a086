import Foundation
import KeyManagement
import TestSupport
import XCTest

/// The maintained DEK counts stay cheap to read where no status server runs: every worker
/// folds the deltas in its housekeeping (`DEKCounts.housekeeping`).
final class DEKCountFoldingTests: XCTestCase {
    func testAWorkerWithoutAStatusServerFoldsTheDeltas() throws {
        let s = try RotationScenario(secrets: 300)
        XCTAssertGreaterThan(try DEKCounts.unfolded(s.connection), 0, "seeding appends deltas")
        let worker = try s.worker("folder")
        defer { if worker.process.isRunning { s.kek.send(SIGKILL, to: worker.process) } }
        XCTAssertTrue(try waitUntil(timeout: 60) { try DEKCounts.unfolded(s.connection) == 0 })
        XCTAssertEqual(try DEKCounts.current(s.connection), try DEKCounts.exact(s.connection))
        XCTAssertEqual(try DEKCounts.current(s.connection)[s.firstKEK], 300)
        s.kek.send(SIGTERM, to: worker.process)
        XCTAssertTrue(s.kek.waitForExit(worker.process, timeout: 30))
        let log = try String(contentsOf: worker.log, encoding: .utf8)
        XCTAssertFalse(log.contains("maintenance fold_dek_counts"), "the fold step never failed: \(log)")
    }
}
