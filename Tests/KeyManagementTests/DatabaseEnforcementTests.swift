import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// What sql/040-044 make the database refuse, tried in plain SQL as a kek_worker login and as
/// a kek_app login: every forbidden KEK transition and counter change, the temporary-table
/// stand-in for keks, and row locks on keks.
final class DatabaseEnforcementTests: XCTestCase {
    /// KEKs in every interesting state: `compromised` (3 DEKs), `active` (wrap_count 5),
    /// `pending`, and `retired` (no DEKs, no verification).
    struct Keys {
        var compromised: Int32, active: Int32, pending: Int32, retired: Int32
    }

    private func setUp(_ f: KeyFixture) throws -> Keys {
        let retired = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let compromised = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.store.retire(retired)
        try f.seedDEKs(3)
        let active = try XCTUnwrap(try f.store.markCompromised(compromised, rootKeys: f.rootKeys))
        try f.connection.query("SELECT kek_record_wraps($1, 5, 100)", [active])
        let pending = try f.store.generate(rootKeys: f.rootKeys)
        return Keys(compromised: compromised, active: active, pending: pending, retired: retired)
    }

    private func assertRefused(_ db: PostgresConnection, _ sql: String, _ parameters: [any PostgresEncodable] = [],
                               _ expected: SQLState, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try db.transaction { try db.query(sql, parameters) }, sql, file: file, line: line) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, expected, "\(sql): \($0)", file: file, line: line)
        }
    }

    /// (statement, SQLSTATE of the lifecycle rule); kek_app gets 42501 for each (no UPDATE/DELETE on keks).
    private func forbidden(_ k: Keys) -> [(String, SQLState)] {
        [
            ("UPDATE keks SET wrapped_key = NULL, state = 'destroyed' WHERE id = \(k.active)", "KK002"),
            ("UPDATE keks SET state = 'active' WHERE id = \(k.compromised)", "KK002"),
            ("UPDATE keks SET state = 'retired' WHERE id = \(k.compromised)", "KK003"),
            ("UPDATE keks SET state = 'retired' WHERE id = \(k.pending)", "KK002"),
            ("UPDATE keks SET state = 'decrypt_only' WHERE id = \(k.pending)", "KK002"),
            ("UPDATE keks SET state = 'pending' WHERE id = \(k.active)", "KK002"),
            ("UPDATE keks SET state = 'active' WHERE id = \(k.retired)", "KK002"),
            ("UPDATE keks SET state = 'destroyed', wrapped_key = NULL WHERE id = \(k.retired)", "KK004"),
            ("UPDATE keks SET destroy_after = now() + interval '1 minute' WHERE id = \(k.retired)", "KK008"),
            ("UPDATE keks SET destroy_after = now() + interval '2 hours' WHERE id = \(k.retired)", "KK007"),
            ("UPDATE keks SET destroy_after = now() + interval '2 hours' WHERE id = \(k.active)", "KK002"),
            ("UPDATE keks SET wrap_count = 0 WHERE id = \(k.active)", "KK006"),
            ("UPDATE keks SET wrap_count = wrap_count - 1 WHERE id = \(k.active)", "KK006"),
            ("UPDATE keks SET wrapped_key = wrapped_key || '\\x00'::bytea WHERE id = \(k.active)", "KK005"),
            ("UPDATE keks SET root_key_id = 'r9' WHERE id = \(k.active)", "KK005"),
            ("DELETE FROM keks WHERE id = \(k.retired)", "KK001"),
            ("INSERT INTO keks (root_key_id, wrapped_key, state) VALUES ('r1', '\\x01', 'retired')", "KK002"),
            ("INSERT INTO keks (root_key_id, wrapped_key, wrap_count) VALUES ('r1', '\\x01', -5)", "KK002"),
        ]
    }

    func testEveryForbiddenKEKChangeIsRefusedForWorkerAndApp() throws {
        let f = try KeyFixture()
        let keys = try setUp(f)
        let worker = try PostgresConnection(try TestLogins.url(f.url, login: TestLogins.worker, memberOf: "kek_worker"))
        let app = try PostgresConnection(try TestLogins.appURL(f.url, projects: [UUID()]))
        for (sql, code) in forbidden(keys) {
            assertRefused(worker, sql, [], sql.hasPrefix("DELETE") ? .insufficientPrivilege : code)   // no DELETE grant either
            assertRefused(app, sql, [], .insufficientPrivilege)
            assertRefused(f.connection, sql, [], code)   // the owner (here a superuser) is held to the lifecycle too
        }
        // The allowed step still works for the worker: compromised -> retired once no DEK is left.
        try worker.transaction { try worker.execute("DELETE FROM data_keys WHERE kek_id = $1", [keys.compromised]) }
        try worker.transaction { try worker.execute("UPDATE keks SET state = 'retired', retired_at = now() WHERE id = $1", [keys.compromised]) }

        // An application may neither lock nor read the counters of keks.
        for lock in ["FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE"] {
            assertRefused(app, "SELECT id FROM keks \(lock)", [], .insufficientPrivilege)
        }
        assertRefused(app, "SELECT wrap_count FROM keks", [], .insufficientPrivilege)
        XCTAssertEqual(try app.query("SELECT count(*) FROM keks")[0].decode(0, as: Int.self), 1,
                       "the app sees only KEKs that still unwrap its DEKs (the active one here)")
    }

    func testTemporaryKeksTableCannotStandInForTheRealOne() throws {
        let f = try KeyFixture()
        let keys = try setUp(f)
        for url in [try TestLogins.url(f.url, login: TestLogins.worker, memberOf: "kek_worker"),
                    try TestLogins.appURL(f.url, projects: [UUID()])] {
            let db = try PostgresConnection(url)
            try db.execute("CREATE TEMP TABLE keks (id int, state text)")
            try db.execute("INSERT INTO keks VALUES ($1, 'active')", [keys.pending])
            assertRefused(db, "INSERT INTO data_keys (kek_id, wrapped_key) VALUES ($1, '\\x01')", [keys.pending], .checkViolation)
        }
    }

    func testAppOnlyReachesTheDEKsOfItsProjects() throws {
        let f = try KeyFixture()
        _ = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        let owner = SecretStore(connection: f.connection, keks: keks, actor: "owner")
        let (mine, theirs) = (UUID(), UUID())
        try owner.put(project: mine, name: "MINE", value: SecretBytes("m"))
        let other = try owner.put(project: theirs, name: "THEIRS", value: SecretBytes("t"))
        let theirDEK: Int64 = try f.connection.query("SELECT dek_id FROM project_secrets WHERE id = $1", [other.id])[0].decode(0)
        let app = try PostgresConnection(try TestLogins.appURL(f.url, projects: [mine]))
        XCTAssertEqual(try app.query("SELECT count(*) FROM data_keys")[0].decode(0, as: Int.self), 1)
        XCTAssertEqual(try app.execute("DELETE FROM data_keys WHERE id = $1", [theirDEK]), 0)
        assertRefused(app, "UPDATE data_keys SET kek_id = kek_id", [], .insufficientPrivilege)
        // An application's delete leaves an audit row written by the database.
        XCTAssertEqual(try app.transaction { try app.execute("DELETE FROM project_secrets WHERE name = 'MINE'") }, 1)
        XCTAssertEqual(try f.connection.query("""
            SELECT count(*) FROM audit_log WHERE action = 'secret.deleted' AND login = $1 AND details->>'project_id' = $2
            """, [TestLogins.app, mine.uuidString.lowercased()])[0].decode(0, as: Int.self), 1)
    }
}
