import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// Pause, resume and the rate cap of a rotation, through the built binary with two workers.
final class JobControlEndToEndTests: XCTestCase {
    /// Moved DEKs: those no longer under the scenario's first KEK.
    private func moved(_ scenario: RotationScenario) throws -> Int {
        try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [scenario.firstKEK])
    }

    func testPausedRotationMovesNoDEKForTenSecondsAndResumeCompletes() throws {
        let scenario = try RotationScenario(secrets: 20_000)
        let workers = [try scenario.worker("p1"), try scenario.worker("p2")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let job = try scenario.enqueueRotation(["--batch-size", "500", "--parts", "4", "--max-rate", "2000"])
        XCTAssertTrue(try waitUntil(timeout: 120) { try moved(scenario) >= 4_000 })
        let paused = try scenario.kek.run(["jobs", "pause", String(job)])
        XCTAssertEqual(paused.status, 0, paused.stderr)
        // Each running part finishes at most the batch in hand, then stops.
        XCTAssertTrue(try waitUntil(timeout: 15) {
            try scenario.count("SELECT count(*) FROM jobs WHERE (id = $1 OR parent_id = $1) AND state = 'running'", [job]) == 0
        })
        let perKEK = "SELECT coalesce(string_agg(kek_id || ':' || n, ',' ORDER BY kek_id), '') FROM (SELECT kek_id, count(*) n FROM data_keys GROUP BY 1) s"
        let before: String = try scenario.connection.query(perKEK)[0].decode(0)
        let until = Date().addingTimeInterval(10)
        while Date() < until {
            XCTAssertEqual(try scenario.connection.query(perKEK)[0].decode(0, as: String.self), before)
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertLessThan(try moved(scenario), 20_000, "paused before the end")
        let resumed = try scenario.kek.run(["jobs", "resume", String(job)])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 240), "completed")
        try scenario.assertRotated(from: scenario.firstKEK, secrets: 20_000)
    }

    func testRateCapHoldsOverEveryFiveSecondWindowSweepIncluded() throws {
        let total = 50_000
        let scenario = try RotationScenario(secrets: total)
        let served = try scenario.kek.startLogged(
            ["worker", "--lease", "3s", "--poll-interval", "1s", "--no-schedules", "--worker-id", "t1",
             "--status-listen", "127.0.0.1:0"], name: "t1")
        let workers = [served, try scenario.worker("t2")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let (base, _) = try StatusServerProcess.waitForAddress(log: served.log, process: served.process)
        let job = try scenario.enqueueRotation(["--parts", "4", "--max-rate", "2000"])
        var samples: [(at: Double, moved: Int)] = []
        var views: ProgressViews?
        let start = Date()
        let state = try scenario.waitForEnd(of: job, timeout: 240) {
            samples.append((Date().timeIntervalSince(start), try moved(scenario)))
            if views == nil, samples.last!.moved >= 30_000 {
                views = try ProgressViews(kek: scenario.kek, statusBase: base, job: job)
            }
            Thread.sleep(forTimeInterval: 0.05)  // with waitForEnd's 0.2 s: one sample every 0.25 s
        }
        samples.append((Date().timeIntervalSince(start), try moved(scenario)))
        XCTAssertEqual(state, "completed")
        let firstMove = try XCTUnwrap(samples.first { $0.moved > 0 }?.at)
        var worst = 0.0
        for (index, sample) in samples.enumerated() where sample.at >= firstMove + 5 {
            guard let end = samples[index...].first(where: { $0.at >= sample.at + 5 }) else { break }
            worst = max(worst, Double(end.moved - sample.moved) / (end.at - sample.at))
        }
        let seconds = samples.last!.at - firstMove
        print("max-rate 2000: worst 5 s window \(Int(worst)) rows/s, average \(Int(Double(total) / seconds)) rows/s over \(Int(seconds)) s")
        XCTAssertLessThanOrEqual(worst, 2_300)
        XCTAssertGreaterThan(worst, 1_000, "the cap should not slow the rotation far below it")
        let seen = try XCTUnwrap(views)
        print("at one moment: \(seen.views)")
        XCTAssertEqual(seen.views[0].state, "running")
        seen.assertAgree(tolerance: 0.1)
        try scenario.assertRotated(from: scenario.firstKEK, secrets: total)
    }

    func testSlowCapOnAShortLeaseCompletesOnTheFirstAttempt() throws {
        let scenario = try RotationScenario(secrets: 600)
        let worker = try scenario.kek.startLogged(["worker", "--concurrency", "2", "--lease", "10s", "--poll-interval", "1s",
                                                   "--no-schedules", "--worker-id", "slow"], name: "slow")
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let job = try scenario.enqueueRotation(["--parts", "2", "--max-rate", "60"])
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 120), "completed")
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM jobs WHERE (id = $1 OR parent_id = $1) AND attempt <> 1", [job]), 0,
                       (try? String(contentsOf: worker.log, encoding: .utf8)) ?? "")
        try scenario.assertRotated(from: scenario.firstKEK, secrets: 600)
    }
}
