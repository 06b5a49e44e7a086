import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// The rotation's sweep: a DEK the parts could not take (an application held it) is found by the
/// sweep, which the maintained counts send looking and which walks the old KEK's ids in windows;
/// held past the sweep's passes, the attempt ends saying so and the queue retries it.
final class RotationSweepEndToEndTests: XCTestCase {
    func testADEKHeldThroughThePartsIsSweptAcrossIdWindows() throws {
        let scenario = try RotationScenario(secrets: 500)
        let old = scenario.firstKEK
        // DEKs far up the id space, so the sweep needs several of its 1M-id windows to reach them.
        try scenario.connection.execute("ALTER TABLE data_keys ALTER COLUMN id RESTART WITH 2500000")
        let keks = KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys)
        let high = try scenario.connection.transaction { try (0..<5).map { _ in try DataKeys.create(scenario.connection, under: try keks.active()).dekID } }
        let held = high[2]
        XCTAssertGreaterThan(held, 2_000_000, "past two of the sweep's windows (RotationSteps.idWindow, 1M ids)")
        // And one an application numbered itself, near the top of the id space: the sweep's windows
        // jump the gap (one statement per 1M ids up to it would never end).
        try scenario.connection.execute("ALTER TABLE data_keys ALTER COLUMN id RESTART WITH 9000000000000000000")
        let far = try scenario.connection.transaction { try DataKeys.create(scenario.connection, under: try keks.active()).dekID }
        XCTAssertEqual(far, 9_000_000_000_000_000_000)

        let application = try PostgresConnection(scenario.url)
        try application.execute("BEGIN")
        try application.execute("SELECT 1 FROM data_keys WHERE id = $1 FOR UPDATE", [held])
        let worker = try scenario.worker("s1", extra: ["--retry-base", "1s"])
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        // Several parts over sparse ids, so the split walks the index (the default would give one part).
        let job = try scenario.enqueueRotation(["--batch-size", "100", "--parts", "4"])
        // Every DEK but the held one moves; the rotation keeps sweeping while it is held.
        let deadline = Date().addingTimeInterval(120)
        while try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [old]) > 1, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [old]), 1)
        XCTAssertEqual(try scenario.connection.query("SELECT kek_id FROM data_keys WHERE id = $1", [held])[0].decode(0, as: Int32.self), old)
        // Not ended: between its looks at the parts (and between attempts) the parent is queued, else running.
        XCTAssertTrue(["queued", "running"].contains(try scenario.state(ofJob: job)), "the rotation must not end while a DEK is left")
        XCTAssertEqual(try scenario.connection.query("SELECT state FROM keks WHERE id = $1", [old])[0].decode(0, as: String.self),
                       "decrypt_only", "the old KEK is not retired while a DEK is under it")
        // Held through every pass of an attempt (about 10 s): the attempt's error names the held
        // DEKs and the runbook, not "run 'kek rotate' first".
        let errors = try waitForAttemptError(of: job, containing: "held by other transactions", scenario)
        XCTAssertTrue(errors.contains("1 DEK under KEK \(old) is held"), errors)
        XCTAssertTrue(errors.contains("runbooks/stuck-rotation.md"), errors)
        XCTAssertFalse(errors.contains("run 'kek rotate' first"), errors)
        try application.execute("COMMIT")

        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 120), "completed")
        let new: Int32 = try scenario.connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0)
        XCTAssertEqual(try scenario.connection.query("SELECT kek_id FROM data_keys WHERE id = $1", [held])[0].decode(0, as: Int32.self), new)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [old]), 0)
        XCTAssertEqual(try scenario.connection.query("SELECT state FROM keks WHERE id = $1", [old])[0].decode(0, as: String.self), "retired")
        XCTAssertEqual(try scenario.kek.run(["verify"]).status, 0)
    }

    /// The job's attempt errors once one contains `text` (polled; fails after two minutes).
    private func waitForAttemptError(of job: Int64, containing text: String, _ scenario: RotationScenario) throws -> String {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let errors: String = try scenario.connection.query("SELECT attempt_errors::text FROM jobs WHERE id = $1", [job])[0].decode(0)
            if errors.contains(text) || Date() > deadline { return errors }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Counts that drifted high (a superuser deleted a DEK with triggers off, as a logical
    /// replica's apply does) do not hold a rotation up: the sweep and the retirement check the
    /// data before they call rows held or refuse, and the old KEK is retired.
    func testCountsThatDriftedHighDoNotHoldTheRotationUp() throws {
        let scenario = try RotationScenario(secrets: 50)
        let old = scenario.firstKEK
        let keks = KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys)
        let gone = try scenario.connection.transaction { try DataKeys.create(scenario.connection, under: try keks.active()).dekID }
        try scenario.connection.execute("SET session_replication_role = replica")
        try scenario.connection.execute("DELETE FROM data_keys WHERE id = $1", [gone])
        try scenario.connection.execute("SET session_replication_role = origin")
        XCTAssertEqual(try DEKCounts.total(scenario.connection, keks: [old]) - Int64(try scenario.count(
            "SELECT count(*) FROM data_keys WHERE kek_id = $1", [old])), 1, "the maintained count is one too high")

        let worker = try scenario.worker("d1")
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let job = try scenario.enqueueRotation()
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 120), "completed")
        XCTAssertEqual(try scenario.connection.query("SELECT state FROM keks WHERE id = $1", [old])[0].decode(0, as: String.self), "retired")
        XCTAssertEqual(try scenario.count("SELECT attempt FROM jobs WHERE id = $1", [job]), 1, "on the first attempt")
    }
}
