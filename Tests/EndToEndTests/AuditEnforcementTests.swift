import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// The audit trail and the destruction proof against an application login and a superuser,
/// through the real `kek` binary running as a kek_worker login.
final class AuditEnforcementTests: XCTestCase {
    /// A harness with one secret and a retired KEK (no DEKs) that has never been verified.
    private func setUp() throws -> (SecretsHarness, retired: Int32, app: PostgresConnection) {
        let h = try SecretsHarness()
        XCTAssertEqual(try h.run(["secrets", "put", "--project", h.project, "TOKEN"], stdin: "value-1").status, 0)
        let generated = try h.run(["keys", "generate"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let retired: Int32 = try h.connection.query("SELECT id FROM keks WHERE state = 'pending'")[0].decode(0)
        // Make it active, then rotate away from it so it can retire empty.
        XCTAssertEqual(try h.run(["keys", "activate", String(retired)]).status, 0)
        XCTAssertEqual(try h.run(["keys", "generate", "--activate"]).status, 0)
        XCTAssertEqual(try h.run(["keys", "retire", String(retired)]).status, 0)
        let app = try PostgresConnection(try TestLogins.appURL(h.url, projects: [try XCTUnwrap(UUID(uuidString: h.project))]))
        return (h, retired, app)
    }

    func testForgedRowsAndVerificationsChangeNothing() throws {
        let (h, retired, app) = try setUp()
        let refused = try h.run(["keys", "destroy", String(retired)])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("verif"), refused.stderr)

        // The app may append audit rows, but the database sets their time, login and chain fields.
        try app.transaction {
            try app.execute("""
                INSERT INTO audit_log (id, at, login, actor, action, target, details, prev_hash, hash, hash_version)
                VALUES (424242, '2020-01-01', 'alice', 'alice-operator', 'kek.destroyed', 'kek:1', '{}', '\\x00', '\\x00', 1)
                """)
            // A forged verification in the audit log is just a row; the proof table refuses the app.
            try app.execute("INSERT INTO audit_log (actor, action, details) VALUES ('kek', 'verification.finished', '{\"failures\": 0}')")
        }
        XCTAssertThrowsError(try app.execute(
            "INSERT INTO kek_verifications (keks_checked, deks_checked, values_checked, failures) VALUES (1, 1, 1, 0)")) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\($0)")
        }
        let forged = try h.connection.query(
            "SELECT id, at > now() - interval '1 hour', login, hash_version FROM audit_log WHERE actor = 'alice-operator'")[0]
        XCTAssertNotEqual(try forged.decode(0, as: Int64.self), 424242)
        XCTAssertTrue(try forged.decode(1, as: Bool.self), "at is the database's clock, not 2020")
        XCTAssertEqual(try forged.decode(2, as: String.self), TestLogins.app, "login is the writing login")
        XCTAssertEqual(try forged.decode(3, as: Int.self), 2)
        XCTAssertEqual(try h.run(["audit", "verify"]).status, 0, "forged rows chain like any other")
        let stillRefused = try h.run(["keys", "destroy", String(retired)])
        XCTAssertEqual(stillRefused.status, 1, "a forged verification.finished row is no proof")
        XCTAssertTrue(stillRefused.stderr.contains("verif"), stillRefused.stderr)
        XCTAssertEqual(try h.connection.query("SELECT login FROM audit_log WHERE action = 'kek.retired'")[0].decode(0, as: String.self),
                       TestLogins.worker, "kek itself ran as the kek_worker login")

        // A REPEATABLE READ writer outside kek is refused, not allowed to fork the chain.
        try h.connection.executeScript("ALTER DATABASE \(try dbName(h)) SET default_transaction_isolation = 'repeatable read'")
        let rrApp = try PostgresConnection(try TestLogins.appURL(h.url, projects: []))
        rrApp.transactionSettings = [:]   // a plain client: its statement runs in the database's default level
        XCTAssertThrowsError(try rrApp.execute("INSERT INTO audit_log (actor, action) VALUES ('x', 'secret.accessed')")) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "KA001", "\($0)")
        }
    }

    func testParallelCommandsUnderRepeatableReadKeepTheChainAndTheSavedHeadCatchesTampering() throws {
        let (h, retired, _) = try setUp()
        try h.connection.executeScript("ALTER DATABASE \(try dbName(h)) SET default_transaction_isolation = 'repeatable read'")
        let kek = h.kek()
        let processes = try (0..<12).map { _ in try kek.start(["secrets", "get", "--project", h.project, "TOKEN"]) }
        for process in processes { process.waitUntilExit() }
        XCTAssertEqual(processes.map(\.terminationStatus), Array(repeating: 0, count: 12))
        XCTAssertEqual(try h.connection.query("SELECT count(*) FROM audit_log WHERE action = 'secret.accessed'")[0].decode(0, as: Int.self), 12)
        let intact = try h.run(["audit", "verify"])
        XCTAssertEqual(intact.status, 0, intact.stdout + intact.stderr)

        let headLine = try h.run(["audit", "head"])
        XCTAssertEqual(headLine.status, 0, headLine.stderr)
        let saved = try XCTUnwrap(AuditLog.Head(parsing: headLine.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(try h.run(["audit", "verify", "--head", saved.description]).status, 0)
        let export = try h.run(["audit", "export", "--after", String(saved.id - 2)])
        // The two rows up to the saved head, then the 'audit.verified' row that the verify appended.
        let lines = export.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, export.stdout)
        let last = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        XCTAssertEqual(last["hash"] as? String, saved.hash)
        XCTAssertEqual(last["login"] as? String, TestLogins.worker)
        let verified = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        XCTAssertEqual(verified["action"] as? String, "audit.verified")

        // A superuser drops the last two rows with triggers off and fixes the head table: the
        // chain is consistent again, only the saved head shows it.
        try h.connection.executeScript("""
            SET session_replication_role = replica;
            DELETE FROM audit_log WHERE id > \(saved.id - 2);
            UPDATE audit_head SET id = a.id, hash = a.hash FROM (SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1) a;
            SET session_replication_role = origin;
            """)
        XCTAssertEqual(try h.run(["audit", "verify"]).status, 0, "a truncated chain alone still looks intact")
        let truncated = try h.run(["audit", "verify", "--head", saved.description])
        XCTAssertEqual(truncated.status, 1)
        XCTAssertTrue(truncated.stderr.contains("gone"), truncated.stderr)

        // Rewriting: change an old row and recompute every hash after it, and the head.
        let second = try XCTUnwrap(AuditLog.Head(parsing: try h.run(["audit", "head"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        try h.connection.executeScript("""
            SET session_replication_role = replica;
            UPDATE audit_log SET actor = 'mallory' WHERE id = 2;
            DO $$ DECLARE r record; prev bytea; BEGIN
                SELECT hash INTO prev FROM audit_log WHERE id = 1;
                FOR r IN SELECT * FROM audit_log WHERE id >= 2 ORDER BY id LOOP
                    UPDATE audit_log SET prev_hash = prev,
                           hash = sha256(prev || audit_log_content_v2(r.id, r.at, r.login, r.actor, r.action, r.target, r.details))
                     WHERE id = r.id RETURNING hash INTO prev;
                END LOOP;
                UPDATE audit_head SET hash = prev;
            END $$;
            SET session_replication_role = origin;
            """)
        XCTAssertEqual(try h.run(["audit", "verify"]).status, 0, "a rewritten chain alone still looks intact")
        let rewritten = try h.run(["audit", "verify", "--head", second.description])
        XCTAssertEqual(rewritten.status, 1)
        XCTAssertTrue(rewritten.stderr.contains("rewritten"), rewritten.stderr)
        XCTAssertEqual(try h.run(["keys", "destroy", String(retired)]).status, 1, "destroy is still refused")
    }

    func testOutsideLocksMakeNoCommandHang() throws {
        let (h, _, app) = try setUp()
        // A login with no grants at all takes the advisory key the old audit trigger used.
        let stranger = try PostgresConnection(try TestLogins.url(h.url, login: "kek_e2e_stranger", memberOf: nil))
        try stranger.query("SELECT pg_advisory_lock(hashtext('kek.audit_log'))")
        let generate = try h.run(["keys", "generate"])
        XCTAssertEqual(generate.status, 0, "no well-known advisory lock: \(generate.stderr)")

        // An application transaction left open after an audit row holds the chain head.
        try app.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        try app.execute("INSERT INTO audit_log (actor, action) VALUES ('app', 'secret.accessed')")
        let started = Date()
        let blocked = try h.run(["secrets", "get", "--project", h.project, "TOKEN"], env: ["KEK_LOCK_TIMEOUT": "1s"])
        let waited = Date().timeIntervalSince(started)
        try app.execute("ROLLBACK")
        print("secrets get behind an open audit transaction: exit \(blocked.status) after \(String(format: "%.2f", waited)) s (lock_timeout 1s)")
        XCTAssertEqual(blocked.status, 1)
        XCTAssertTrue(blocked.stderr.contains("lock timeout") && blocked.stderr.contains("INSERT INTO audit_log"), blocked.stderr)
        XCTAssertLessThan(waited, 20, "bounded by lock_timeout, not by the other session")
        XCTAssertEqual(try h.run(["secrets", "get", "--project", h.project, "TOKEN"]).status, 0, "works again once the lock is gone")

        // An application may lock a table it can delete from; a statement kek sends on its own
        // (outside a transaction of its own making) is bounded too. (`keys list` no longer reads
        // data_keys: its counts are the maintained ones, sql/100; `verify` reads every DEK.)
        try app.execute("BEGIN")
        try app.execute("LOCK TABLE data_keys IN ACCESS EXCLUSIVE MODE")
        XCTAssertEqual(try h.run(["keys", "list"], env: ["KEK_LOCK_TIMEOUT": "1s"]).status, 0, "keys list reads no DEK")
        let listStarted = Date()
        let listed = try h.run(["verify"], env: ["KEK_LOCK_TIMEOUT": "1s"])
        let listWaited = Date().timeIntervalSince(listStarted)
        try app.execute("ROLLBACK")
        print("verify behind a table lock: exit \(listed.status) after \(String(format: "%.2f", listWaited)) s (lock_timeout 1s)")
        XCTAssertEqual(listed.status, 1)
        XCTAssertTrue(listed.stderr.contains("lock timeout"), listed.stderr)
        XCTAssertLessThan(listWaited, 20)
    }

    private func dbName(_ h: SecretsHarness) throws -> String {
        try h.connection.query("SELECT current_database()")[0].decode(0)
    }
}
