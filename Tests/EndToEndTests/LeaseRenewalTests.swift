import Foundation
import PostgresClient
import XCTest

/// A throttled rotation whose parts sleep for longer than their lease between batches.
final class LeaseRenewalTests: XCTestCase {
    /// 2,400 DEKs at 60 rows/s in 2 parts of 1,200 with batches of 1,000: each part commits
    /// a batch, then its throttle sleeps ~33s (30 rows/s each) — over three 10s leases —
    /// before the last 200. Spare job loops poll for expired leases all along, so a part
    /// whose lease lapsed during a sleep would be taken over and show attempt 2. About 40s
    /// in all: enough to prove renewal across several lease periods without the two minutes
    /// of the wording, which would add nothing but CI time.
    func testThrottledRotationKeepsEveryPartOnItsFirstAttempt() throws {
        let secrets = 2_400
        let scenario = try RotationScenario(secrets: secrets)
        let workers = [try scenario.worker("slow-1", concurrency: 2, lease: "10s"),
                       try scenario.worker("slow-2", concurrency: 2, lease: "10s")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let logs = { workers.map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined(separator: "\n---\n") }
        let job = try scenario.enqueueRotation(["--batch-size", "1000", "--parts", "2", "--max-rate", "60"])
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 180), "completed", logs())
        let parts = try scenario.connection.query("SELECT attempt, state FROM jobs WHERE parent_id = $1 AND kind = 'rewrap_part'", [job])
        XCTAssertEqual(parts.count, 2)
        for part in parts {
            XCTAssertEqual(try part.decode(0, as: Int32.self), 1, logs())
            XCTAssertEqual(try part.decode(1, as: String.self), "completed")
        }
        let (_, total) = try scenario.timings(ofJob: job)
        print(String(format: "throttled rotation: %d DEKs at 60 rows/s in %.1fs on a 10s lease, every part on attempt 1", secrets, total))
        XCTAssertGreaterThan(total, 30, "the throttle should have stretched the rotation over several leases")
        XCTAssertFalse(logs().contains("lease_lost"), logs())
        try scenario.assertRotated(from: scenario.firstKEK, secrets: secrets)
    }
}
