import Foundation
import HTTPTestSupport
import TestSupport
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

final class RotationTests: XCTestCase {
    func testTwoWorkersRotateFiftyThousandDEKs() throws {
        let scenario = try RotationScenario(secrets: 50_000)
        let workers = [try scenario.worker("w1"), try scenario.worker("w2")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let job = try scenario.enqueueRotation(["--batch-size", "1000", "--parts", "8"])
        let again = try scenario.kek.run(["rotate"])
        XCTAssertTrue(again.stdout.contains("already queued or running: job \(job)"), again.stdout)
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 240), "completed",
                       workers.map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined())
        try scenario.assertRotated(from: scenario.firstKEK, secrets: 50_000)
        let owners = try scenario.count("SELECT count(DISTINCT lease_owner) FROM jobs WHERE parent_id = $1", [job])
        XCTAssertEqual(owners, 2, "both workers should have taken parts")
    }

    /// Kills a worker each time the rotation passes a progress threshold (a DB count), the
    /// victim chosen by a seeded generator: four kills at moments spread over the run, the
    /// same four on every run, with the batch in flight anywhere in its transaction.
    func testWorkersKilledAtRandomMomentsLoseNothing() throws {
        let scenario = try RotationScenario(secrets: 50_000)
        var workers = [try scenario.worker("k1"), try scenario.worker("k2")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let job = try scenario.enqueueRotation(["--batch-size", "500", "--parts", "6"])
        var generator = SeededGenerator(seed: 20_261_201)
        let thresholds = [5_000, 15_000, 27_000, 39_000].map { $0 + Int.random(in: 0..<2_000, using: &generator) }
        var kills = 0
        for threshold in thresholds {
            let deadline = Date().addingTimeInterval(240)
            while try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [scenario.firstKEK]) < threshold,
                  Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            XCTAssertGreaterThanOrEqual(
                try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [scenario.firstKEK]), threshold)
            let victim = Int.random(in: 0..<workers.count, using: &generator)
            scenario.kek.send(SIGKILL, to: workers[victim].process)
            XCTAssertTrue(scenario.kek.waitForExit(workers[victim].process, timeout: 5))
            kills += 1
            workers[victim] = try scenario.worker("k\(kills + 2)")
        }
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 300), "completed")
        XCTAssertEqual(kills, thresholds.count)
        try scenario.assertRotated(from: scenario.firstKEK, secrets: 50_000)
    }

    func testConcurrentApplicationWritesSurviveAndEndUnderTheNewKEK() throws {
        let scenario = try RotationScenario(secrets: 20_000)
        // The application runs as a kek_app login bound to the scenario's project (sql/044).
        let appURL = try TestLogins.appURL(scenario.url, projects: [scenario.project])
        let writer = try ApplicationWriter(url: appURL, rootKeys: TestRootKey.line, project: scenario.project)
        writer.start()
        let workers = [try scenario.worker("a1"), try scenario.worker("a2")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        // Four parts, so both workers rewrap beside the writer (the default would give 20k DEKs one part).
        let job = try scenario.enqueueRotation(["--batch-size", "500", "--parts", "4"])
        let state = try scenario.waitForEnd(of: job, timeout: 240)
        let written = writer.stop()
        XCTAssertEqual(state, "completed")
        XCTAssertGreaterThan(written.inserted + written.rekeyed, 0)
        XCTAssertEqual(written.errors, [], "the writer saw errors it could not retry")
        let active: Int32 = try scenario.connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [active]), 0)
        // Every value the writer stored (seeded, re-keyed or new) still decrypts to what it wrote.
        let values = try SyntheticSecrets.countWrongValues(scenario.connection, keks: KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys), project: scenario.project)
        XCTAssertEqual(values.wrong, 0)
        XCTAssertEqual(values.checked, 20_000 + written.inserted)
    }

    func testTamperedDEKFailsVerifyAndRotationNamesItAndKeepsOldKEK() throws {
        let scenario = try RotationScenario(secrets: 3_000)
        let tampered: Int64 = try scenario.connection.query("SELECT min(id) + 1234 FROM data_keys")[0].decode(0)
        try scenario.connection.execute(
            "UPDATE data_keys SET wrapped_key = set_byte(wrapped_key, 30, get_byte(wrapped_key, 30) # 4) WHERE id = $1", [tampered])
        let verify = try scenario.kek.run(["verify"])
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.stdout.contains("data_keys \(tampered)"), verify.stdout)
        let worker = try scenario.worker("t1", concurrency: 2)
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let job = try scenario.enqueueRotation(["--batch-size", "500", "--parts", "3"])
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 120), "failed")
        let error: String = try scenario.connection.query("SELECT last_error FROM jobs WHERE id = $1", [job])[0].decode(0)
        XCTAssertTrue(error.contains("DEK \(tampered)"), error)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [scenario.firstKEK]), 1)
        XCTAssertEqual(try scenario.connection.query("SELECT state FROM keks WHERE id = $1", [scenario.firstKEK])[0].decode(0, as: String.self),
                       "decrypt_only")
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM audit_log WHERE action = 'rotation.failed'"), 1)

        // The row restored (the same bit flipped back), `kek jobs retry` finishes the rotation
        // from its checkpoint instead of repeating the last attempt's failure.
        try scenario.connection.execute(
            "UPDATE data_keys SET wrapped_key = set_byte(wrapped_key, 30, get_byte(wrapped_key, 30) # 4) WHERE id = $1", [tampered])
        XCTAssertEqual(try scenario.kek.run(["jobs", "retry", String(job)]).status, 0)
        let retried = try scenario.waitForEnd(of: job, timeout: 120)
        let lastError: String = try scenario.connection.query("SELECT coalesce(last_error, '') FROM jobs WHERE id = $1", [job])[0].decode(0)
        XCTAssertEqual(retried, "completed", lastError)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [scenario.firstKEK]), 0)
        XCTAssertEqual(try scenario.connection.query("SELECT state FROM keks WHERE id = $1", [scenario.firstKEK])[0].decode(0, as: String.self),
                       "retired")
    }

    func testDestroyIsRefusedWhileDEKsReferenceTheKEK() throws {
        let scenario = try RotationScenario(secrets: 10)
        _ = try scenario.kek.run(["keys", "generate", "--activate"])
        let refused = try scenario.kek.run(["keys", "destroy", String(scenario.firstKEK)])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("decrypt_only"), refused.stderr)
        // Forcing it to `retired` behind kek's back is refused by the database itself (sql/040).
        XCTAssertThrowsError(try scenario.connection.execute(
            "UPDATE keks SET state = 'retired', retired_at = now() WHERE id = $1", [scenario.firstKEK])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "KK003", "\($0)")
            XCTAssertTrue("\($0)".contains("10 DEKs are still wrapped under it"), "\($0)")
        }
        let stillRefused = try scenario.kek.run(["keys", "destroy", "--after", "0s", String(scenario.firstKEK)])
        XCTAssertEqual(stillRefused.status, 1)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM keks WHERE destroy_after IS NOT NULL"), 0)
    }
}
