import Foundation
import KeyManagement
import PostgresClient
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

        // Step 4: the empty unopenable KEK retired, verify passes again (it names KEK `lost`
        // without counting it), so the old KEKs can still be destroyed (KK007).
        XCTAssertEqual(try s.kek.run(["keys", "retire", String(lost)]).status, 0)
        let verify = try s.kek.run(["verify"])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains("KEK \(lost): retired and not openable"), verify.stdout)
        let destroy = try s.kek.run(["keys", "destroy", String(s.firstKEK), "--after", "2h"])
        XCTAssertEqual(destroy.status, 0, destroy.stderr)

        // A later root key rotation leaves the empty, unopenable KEK as it is instead of refusing.
        let r2 = "r2:" + Data(repeating: 43, count: 32).base64EncodedString()
        let rotated = try KekBinary(databaseURL: s.url, extra: ["KEK_ROOT_KEYS": r2 + "," + RotationScenario.rootKeyLine])
            .run(["rotate-root"])
        XCTAssertEqual(rotated.status, 0, rotated.stderr)
        XCTAssertTrue(rotated.stdout.contains("retired KEKs \(lost) left as they are"), rotated.stdout)
        XCTAssertEqual(try s.count("SELECT count(*) FROM keks WHERE root_key_id = 'r1' AND wrapped_key IS NOT NULL"), 0)
    }
}
