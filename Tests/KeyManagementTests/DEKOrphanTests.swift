import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// sql/111 dropped data_keys.kek_id's foreign key: the statement triggers on data_keys and the
/// rules on keks must refuse every way to leave a DEK naming a KEK that does not exist, for
/// every role. Each statement here is tried as the owner, a kek_worker login and a kek_app
/// login; whichever refusal stops it (a rule, a privilege), afterwards no DEK is orphaned.
final class DEKOrphanTests: XCTestCase {
    private let missing: Int32 = 9_999

    /// Statements that would orphan a DEK (or a KEK's DEKs) if nothing refused them.
    private func orphaning(dek: Int64, kek: Int32, active: Int32) -> [String] {
        [
            "INSERT INTO data_keys (kek_id, wrapped_key) VALUES (\(missing), '\\x00')",
            "INSERT INTO data_keys (kek_id, wrapped_key) SELECT \(missing), '\\x00' FROM generate_series(1, 3)",
            "UPDATE data_keys SET kek_id = \(missing) WHERE id = \(dek)",
            "UPDATE data_keys SET kek_id = CASE WHEN id = \(dek) THEN \(missing) ELSE \(active) END",
            "WITH m AS (UPDATE data_keys SET kek_id = \(missing) WHERE id = \(dek) RETURNING 1) SELECT count(*) FROM m",
            """
            INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES (\(dek), \(active), '\\x00')
            ON CONFLICT (id) DO UPDATE SET kek_id = \(missing)
            """,
            """
            MERGE INTO data_keys d USING (VALUES (\(dek)::int8)) v(id) ON d.id = v.id
            WHEN MATCHED THEN UPDATE SET kek_id = \(missing)
            """,
            """
            MERGE INTO data_keys d USING (VALUES (9000001::int8)) v(id) ON d.id = v.id
            WHEN NOT MATCHED THEN INSERT (id, kek_id, wrapped_key) VALUES (v.id, \(missing), '\\x00')
            """,
            "DELETE FROM keks WHERE id = \(kek)",
            "DELETE FROM keks",
            "UPDATE keks SET id = \(missing) WHERE id = \(kek)",
            "UPDATE keks SET state = 'retired' WHERE id = \(kek)",
            "TRUNCATE keks",
            "TRUNCATE keks CASCADE",
            // A new id with the move (sql/112): the triggers pair old and new rows by id.
            "UPDATE data_keys SET id = id + 1000000000000, kek_id = \(missing) WHERE id = \(dek)",
            "UPDATE data_keys SET id = id + 1000000000000, kek_id = \(kek) WHERE kek_id = \(active)",
            """
            INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES (\(dek), \(active), '\\x00')
            ON CONFLICT (id) DO UPDATE SET id = \(dek) + 1000000000000, kek_id = \(missing)
            """,
            """
            MERGE INTO data_keys d USING (VALUES (\(dek)::int8)) v(id) ON d.id = v.id
            WHEN MATCHED THEN UPDATE SET id = v.id + 1000000000000, kek_id = \(missing)
            """,
            // Ids no rotation part, sweep or verification walks (they start after 0).
            "INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES (0, \(active), '\\x00')",
            "INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES (-5, \(active), '\\x00')",
        ]
    }

    func testNoRoleCanLeaveADEKUnderAKEKThatDoesNotExist() throws {
        let f = try KeyFixture()
        let old = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(3)
        let active = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(2)
        let dek: Int64 = try f.connection.query("SELECT min(id) FROM data_keys WHERE kek_id = $1", [old])[0].decode(0)
        let worker = try PostgresConnection(try TestLogins.url(f.url, login: TestLogins.worker, memberOf: "kek_worker"))
        let app = try PostgresConnection(try TestLogins.appURL(f.url, projects: [UUID()]))
        let statements = orphaning(dek: dek, kek: old, active: active)
        for (role, db) in [("owner", f.connection), ("kek_worker", worker), ("kek_app", app)] {
            for sql in statements {
                XCTAssertThrowsError(try db.transaction { try db.query(sql) }, "\(role): \(sql)") {
                    // Refused by a rule or a privilege, not by a mistake in the statement.
                    let state = ($0 as? PostgresError)?.sqlState
                    XCTAssertFalse([SQLState("42601"), "42P01", "42703", "23505"].contains(state), "\(role): \(sql): \($0)")
                }
            }
        }
        // COPY fires the same statement triggers; only the owner may read a program's output.
        XCTAssertThrowsError(try f.connection.transaction {
            try f.connection.query("COPY data_keys (kek_id, wrapped_key) FROM PROGRAM $$printf '%s\\n' '\(missing),\\x00'$$ (FORMAT csv)")
        }) { XCTAssertFalse("\($0)".contains("syntax"), "\($0)") }

        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys d WHERE NOT EXISTS (SELECT 1 FROM keks k WHERE k.id = d.kek_id)"), 0)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys"), 5, "nothing inserted, nothing removed")
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [old]), 3, "nothing moved")
        XCTAssertEqual(try f.count("SELECT count(*) FROM keks"), 2)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [active]), 2, "nothing moved under the old KEK")
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE id <= 0 OR id > 1000000000000"), 0)
    }

    /// The owner's refusals name the rule that stopped each (not a missing privilege).
    func testTheOwnersRefusalsNameTheirRule() throws {
        let f = try KeyFixture()
        let kek = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(1)
        let dek: Int64 = try f.connection.query("SELECT min(id) FROM data_keys")[0].decode(0)
        let expected: [(String, SQLState)] = [
            ("UPDATE data_keys SET kek_id = \(missing) WHERE id = \(dek)", "23514"),
            ("DELETE FROM keks WHERE id = \(kek)", "KK001"),
            ("TRUNCATE keks CASCADE", "KK001"),
            ("UPDATE keks SET id = \(missing) WHERE id = \(kek)", "KK002"),
            ("UPDATE data_keys SET id = id + 1000000000000 WHERE id = \(dek)", "KK009"),
            ("INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES (-1, \(kek), '\\x00')", "23514"),
        ]
        for (sql, state) in expected {
            XCTAssertThrowsError(try f.connection.transaction { try f.connection.query(sql) }, sql) {
                XCTAssertEqual(($0 as? PostgresError)?.sqlState, state, "\(sql): \($0)")
            }
        }
        XCTAssertThrowsError(try f.connection.transaction {
            try f.connection.query("INSERT INTO data_keys (kek_id, wrapped_key) VALUES (\(missing), '\\x00')")
        }) { XCTAssertTrue([SQLState("23503"), SQLState("23514")].contains(($0 as? PostgresError)?.sqlState), "\($0)") }
    }
}
