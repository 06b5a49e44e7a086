import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// The compromise procedure as an operator runs it: `kek keys compromised N`, then the exact
/// command it prints, while an application holds a row lock on one DEK.
final class ReencryptEndToEndTests: XCTestCase {
    func testThePrintedCommandWaitsForALockedDEKAndLeavesNothingUnderTheCompromisedKEK() throws {
        let scenario = try RotationScenario(secrets: 3_000)
        let compromised = scenario.firstKEK
        // A DEK an application uses for its own data (no table kek knows references it), far up
        // the id space: the final pass reaches it through several of its 1M-id windows.
        try scenario.connection.execute("ALTER TABLE data_keys ALTER COLUMN id RESTART WITH 2500000")
        let keks = KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys)
        let owner = UUID()
        let appDEK = try scenario.connection.transaction { try DataKeys.create(scenario.connection, under: try keks.active()) }
        let appCiphertext = try appDEK.sealSecret(Array("application data".utf8), id: owner, projectID: owner)
        let oldDEKs = Set(try scenario.connection.query("SELECT dek_id FROM project_secrets WHERE project_id = $1", [scenario.project])
            .map { try $0.decode(0, as: Int64.self) })

        let marked = try scenario.kek.run(["keys", "compromised", String(compromised)])
        XCTAssertEqual(marked.status, 0, marked.stderr)
        let printed = try XCTUnwrap(marked.stdout.split(separator: "\n").first { $0.hasPrefix("next: kek ") })
        let command = printed.dropFirst("next: kek ".count).split(separator: " ").map(String.init)
        XCTAssertEqual(command, ["reencrypt", "--kek", String(compromised), "--wait"])

        let application = try PostgresConnection(scenario.url)
        let locked: Int64 = try scenario.connection.query(
            "SELECT min(dek_id) + 100 FROM project_secrets WHERE project_id = $1", [scenario.project])[0].decode(0)
        try application.execute("BEGIN")
        try application.execute("SELECT 1 FROM data_keys WHERE id = ANY($1::int8[]) FOR UPDATE", [PostgresArray([locked, appDEK.dekID])])
        let lockedAt = Date()

        let worker = try scenario.worker("r1")
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let run = try scenario.kek.startLogged(command, name: "reencrypt")
        defer { scenario.kek.send(SIGKILL, to: run.process) }
        // Everything but the two locked DEKs moves; the job must not end while they are left.
        let deadline = Date().addingTimeInterval(120)
        while try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [compromised]) > 2, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [compromised]), 2)
        XCTAssertGreaterThan(appDEK.dekID, 2 * RotationSteps.idWindow, "past two of the final pass's id windows")
        Thread.sleep(forTimeInterval: max(0, 10 - Date().timeIntervalSince(lockedAt)))
        let job: Int64 = try scenario.connection.query("SELECT id FROM jobs WHERE kind = 'reencrypt'")[0].decode(0)
        XCTAssertEqual(try scenario.state(ofJob: job), "running", "the job must wait for the locked DEK")
        try application.execute("COMMIT")

        XCTAssertTrue(scenario.kek.waitForExit(run.process, timeout: 120))
        let output = (try? String(contentsOf: run.log, encoding: .utf8)) ?? ""
        XCTAssertEqual(run.process.terminationStatus, 0, output)
        XCTAssertEqual(try scenario.state(ofJob: job), "completed")
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [compromised]), 0)
        XCTAssertEqual(try scenario.count("""
            SELECT count(*) FROM project_secrets s JOIN data_keys d ON d.id = s.dek_id WHERE d.kek_id = $1
            """, [compromised]), 0)
        XCTAssertEqual(try scenario.connection.query("SELECT state FROM keks WHERE id = $1", [compromised])[0].decode(0, as: String.self),
                       "retired")
        let newDEKs = Set(try scenario.connection.query("SELECT dek_id FROM project_secrets WHERE project_id = $1", [scenario.project])
            .map { try $0.decode(0, as: Int64.self) })
        XCTAssertTrue(oldDEKs.isDisjoint(with: newDEKs), "every value has a new DEK")
        XCTAssertEqual(newDEKs.count, 3_000)
        let values = try SyntheticSecrets.countWrongValues(
            scenario.connection, keks: KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys), project: scenario.project)
        XCTAssertEqual(values.checked, 3_000)
        XCTAssertEqual(values.wrong, 0)
        // The application's DEK was kept with its key, under a new wrap, and says so.
        let reopened = try DataKeys.open(scenario.connection, id: appDEK.dekID,
                                         keks: KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys))
        XCTAssertEqual(try reopened.openSecret(appCiphertext, id: owner, projectID: owner), Array("application data".utf8))
        let result: String = try scenario.connection.query("SELECT result::text FROM jobs WHERE id = $1", [job])[0].decode(0)
        XCTAssertTrue(result.contains(#""deks_rewrapped": 1"#), result)
        XCTAssertEqual(try scenario.kek.run(["audit", "verify"]).status, 0)
    }

    func testUsageErrorsAndPermanentFailures() throws {
        let scenario = try RotationScenario(secrets: 10)
        for arguments in [["reencrypt"], ["reencrypt", "--kek", "1", "--all"], ["reencrypt", "--kek", "x"],
                          ["reencrypt", "--all", "--max-rate", "0"], ["reencrypt", "--all", "--max-rate", "inf"],
                          ["reencrypt", "--all", "--max-rate", "1e-300"], ["reencrypt", "--all", "--batch-size", "0"]] {
            let outcome = try scenario.kek.run(arguments)
            XCTAssertEqual(outcome.status, 2, "\(arguments): \(outcome.stdout) \(outcome.stderr)")
        }
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM jobs"), 0)
        // A KEK that does not exist fails the job at its first attempt, not after hours of retries.
        let worker = try scenario.worker("p1")
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let outcome = try scenario.kek.run(["reencrypt", "--kek", "999", "--wait"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("KEK 999 does not exist"), outcome.stderr)
        XCTAssertEqual(try scenario.count("SELECT attempt FROM jobs WHERE kind = 'reencrypt'"), 1)
    }

    /// A row held past `--lock-wait` fails the job, naming the DEK, found through the final pass's
    /// id windows (the DEK is past two of them).
    func testARowHeldPastTheLockWaitFailsTheJobNamingIt() throws {
        let scenario = try RotationScenario(secrets: 20)
        let compromised = scenario.firstKEK
        try scenario.connection.execute("ALTER TABLE data_keys ALTER COLUMN id RESTART WITH 2500000")
        let keks = KEKCiphers(connection: scenario.connection, rootKeys: scenario.rootKeys)
        let held = try scenario.connection.transaction { try DataKeys.create(scenario.connection, under: try keks.active()).dekID }
        XCTAssertGreaterThan(held, 2 * RotationSteps.idWindow)
        // One an application numbered itself near the top of the id space: the windows jump the gap.
        try scenario.connection.execute("ALTER TABLE data_keys ALTER COLUMN id RESTART WITH 9000000000000000000")
        _ = try scenario.connection.transaction { try DataKeys.create(scenario.connection, under: try keks.active()) }
        XCTAssertEqual(try scenario.kek.run(["keys", "compromised", String(compromised)]).status, 0)
        let application = try PostgresConnection(scenario.url)
        try application.execute("BEGIN")
        try application.execute("SELECT 1 FROM data_keys WHERE id = $1 FOR UPDATE", [held])

        let worker = try scenario.worker("r2")
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let outcome = try scenario.kek.run(["reencrypt", "--kek", String(compromised), "--lock-wait", "1s", "--wait"])
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        let error: String = try scenario.connection.query("SELECT last_error FROM jobs WHERE kind = 'reencrypt'")[0].decode(0)
        XCTAssertTrue(error.contains("could not reach 1 DEKs still under KEK \(compromised)"), error)
        XCTAssertTrue(error.contains("DEK \(held)"), error)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [compromised]), 1, "only the held DEK is left")
        try application.execute("ROLLBACK")
    }
}
