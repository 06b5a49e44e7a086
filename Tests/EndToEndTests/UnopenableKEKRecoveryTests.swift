import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// An active KEK nobody can open (planted by an older kek, or its root key lost) is named by
/// status, keys list and verify, and the commands of runbooks/unopenable-kek.md recover.
final class UnopenableKEKRecoveryTests: XCTestCase {
    func testUnopenableActiveKEKIsNamedAndRecoveredByTheRunbookCommands() throws {
        let s = try RotationScenario(secrets: 500)
        // What an older kek with a stranger's keyring left behind: its KEK active, the good one demoted.
        try s.connection.execute("UPDATE keks SET state = 'decrypt_only' WHERE id = $1", [s.firstKEK])
        let lost: Int32 = try s.connection.query("""
            INSERT INTO keks (root_key_id, wrapped_key, state) VALUES ('lost', $1, 'pending') RETURNING id
            """, [[UInt8](repeating: 1, count: 61)])[0].decode(0)
        try s.connection.execute("UPDATE keks SET state = 'active', activated_at = now() WHERE id = $1", [lost])
        let named = "KEK \(lost) (active, root key 'lost')"

        for command in [["keys", "list"], ["status", "--no-schedules"], ["verify"]] {
            let outcome = try s.kek.run(command)
            XCTAssertTrue(outcome.stdout.contains("WARNING: \(named)"), "\(command): \(outcome.stdout)\(outcome.stderr)")
            XCTAssertTrue(outcome.stdout.contains("runbooks/unopenable-kek.md"), "\(command): \(outcome.stdout)")
        }
        // The status report (and so /metrics' kek_kek_unopenable, which the KekKEKUnopenable alert reads) says so too.
        let status = try s.kek.run(["status", "--json", "--no-schedules"])
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let listed = (report?["keks"] as? [[String: Any]])?.first { ($0["id"] as? Int) == Int(lost) }
        XCTAssertEqual(listed?["root_key_recorded"] as? Bool, false, status.stdout)
        XCTAssertNotEqual(try s.kek.run(["verify"]).status, 0, "an unopenable KEK in use fails verify")
        let rotate = try s.kek.run(["rotate"])
        XCTAssertNotEqual(rotate.status, 0)
        XCTAssertTrue(rotate.stderr.contains("lacks root key(s) lost"), rotate.stderr)
        let stuck = try s.worker("sees-lost")
        XCTAssertTrue(FleetLogs.waitFor("kinds_disabled", in: stuck.log), FleetLogs.text(stuck.log))
        XCTAssertTrue(FleetLogs.text(stuck.log).contains("lacks root key(s) lost"), FleetLogs.text(stuck.log))
        FleetLogs.stop(stuck, s.kek)

        let compromised = try s.kek.run(["keys", "compromised", String(lost)])
        XCTAssertEqual(compromised.status, 0, compromised.stderr)
        XCTAssertTrue(compromised.stdout.contains("generated and activated"), compromised.stdout)
        XCTAssertFalse(try s.kek.run(["keys", "list"]).stdout.contains("WARNING"))
        let worker = try s.worker("recovers")
        defer { s.kek.send(SIGKILL, to: worker.process) }
        let job = try s.enqueueRotation()
        XCTAssertEqual(try s.waitForEnd(of: job, timeout: 120), "completed", FleetLogs.text(worker.log))
        let active: Int32 = try s.connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0)
        XCTAssertEqual(try s.count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [active]), 0)
        XCTAssertEqual(try s.connection.query("SELECT root_key_id FROM keks WHERE id = $1", [active])[0].decode(0, as: String.self), "r1")
        let values = try SyntheticSecrets.countWrongValues(s.connection, keks: KEKCiphers(connection: s.connection, rootKeys: s.rootKeys),
                                                           project: s.project)
        XCTAssertEqual(values.checked, 500)
        XCTAssertEqual(values.wrong, 0)
        FleetLogs.stop(worker, s.kek)

        // The runbook's last steps: a compromised KEK without DEKs still fails verify (with the
        // hint to retire it); retired, it is reported but is no failure, so it can be destroyed.
        let beforeRetire = try s.kek.run(["verify"])
        XCTAssertNotEqual(beforeRetire.status, 0)
        XCTAssertTrue(beforeRetire.stdout.contains("FAILED keks \(lost)"), beforeRetire.stdout)
        XCTAssertTrue(beforeRetire.stdout.contains("kek keys retire \(lost)"), beforeRetire.stdout)
        XCTAssertEqual(try s.kek.run(["keys", "retire", String(lost)]).status, 0)
        let verified = try s.kek.run(["verify"])
        XCTAssertEqual(verified.status, 0, verified.stdout + verified.stderr)
        XCTAssertTrue(verified.stdout.contains("KEK \(lost): retired, no DEKs, cannot be opened"), verified.stdout)
        XCTAssertTrue(verified.stdout.contains(": 0 failures"), verified.stdout)
        let destroy = try s.kek.run(["keys", "destroy", String(lost)])
        XCTAssertEqual(destroy.status, 0, destroy.stderr)
        XCTAssertEqual(try s.count("SELECT count(*) FROM keks WHERE id = $1 AND destroy_after IS NOT NULL", [lost]), 1)

        // The other old KEK can still be destroyed (KK007 needs a verify without failures), and a
        // later root key rotation leaves the empty, unopenable KEK as it is instead of refusing.
        let destroyFirst = try s.kek.run(["keys", "destroy", String(s.firstKEK), "--after", "2h"])
        XCTAssertEqual(destroyFirst.status, 0, destroyFirst.stderr)
        let r2 = "r2:" + Data(repeating: 43, count: 32).base64EncodedString()
        let rotated = try KekBinary(databaseURL: s.url, extra: ["KEK_ROOT_KEYS": r2 + "," + TestRootKey.line])
            .run(["rotate-root"])
        XCTAssertEqual(rotated.status, 0, rotated.stderr)
        XCTAssertTrue(rotated.stdout.contains("retired KEKs \(lost) left as they are"), rotated.stdout)
        XCTAssertEqual(try s.count("SELECT count(*) FROM keks WHERE root_key_id = 'r1' AND wrapped_key IS NOT NULL"), 0)
    }
}
