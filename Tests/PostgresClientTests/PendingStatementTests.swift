import Foundation
import PostgresClient
import TestSupport
import XCTest

/// `send`: a statement the caller does not wait for, its outcome read later.
final class PendingStatementTests: XCTestCase {
    func testSendReturnsWhileTheServerStillRunsTheStatement() throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url)
        let admin = try PostgresConnection(url)
        try db.execute("CREATE TABLE t (v int8)")
        try admin.query("SELECT pg_advisory_lock(7)")
        let pid = db.backendPID
        try db.transaction {
            // Cannot finish while admin holds the lock: send returning proves it did not wait.
            let pending = try db.send("INSERT INTO t SELECT g FROM generate_series(1, 3) g, pg_advisory_xact_lock(7)")
            XCTAssertTrue(try waitUntil(timeout: 10) {
                try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [pid])[0]
                    .decode(0, as: Int.self) == 1
            }, "the statement waits on the server while the caller runs")
            try admin.query("SELECT pg_advisory_unlock(7)")
            XCTAssertEqual(try pending.affectedRows(), 3)
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 3)
    }

    func testTheNextCallWaitsAndTheOutcomeStaysWithItsOwner() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        try db.execute("CREATE TABLE t (v int8 PRIMARY KEY)")
        try db.transaction {
            let first = try db.send("INSERT INTO t VALUES (1), (2)")
            // Another statement before the first was read: it runs after it, in order.
            XCTAssertEqual(try db.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 2)
            XCTAssertEqual(try first.affectedRows(), 2)
            XCTAssertEqual(try first.affectedRows(), 2, "read twice, the same outcome")
        }
        // An error the owner reads late: the transaction is aborted and reported, never committed.
        XCTAssertThrowsError(try db.transaction {
            let duplicate = try db.send("INSERT INTO t VALUES (3), (1)")
            XCTAssertThrowsError(try db.query("SELECT 1")) { XCTAssertEqual(($0 as? PostgresError)?.sqlState?.code, "25P02") }
            XCTAssertThrowsError(try duplicate.affectedRows()) { XCTAssertEqual(($0 as? PostgresError)?.sqlState?.code, "23505") }
        })
        XCTAssertEqual(try db.query("SELECT array_agg(v ORDER BY v)::text FROM t")[0].decode(0, as: String.self), "{1,2}")
    }

    func testOnlyInsideATransaction() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        XCTAssertThrowsError(try db.send("SELECT 1")) { XCTAssertEqual(($0 as? PostgresError)?.kind, .usage) }
    }

    func testAConnectionLostWhileTheStatementRunsFailsItsTransaction() throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url)
        let admin = try PostgresConnection(url)
        try db.execute("CREATE TABLE t (v int8)")
        let pid = db.backendPID
        XCTAssertThrowsError(try db.transaction {
            let pending = try db.send("INSERT INTO t SELECT 1 FROM pg_sleep(30)")
            XCTAssertTrue(try waitUntil(timeout: 10) {
                try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid])[0]
                    .decode(0, as: Int.self) == 1
            })
            try admin.execute("SELECT pg_terminate_backend($1)", [pid])
            _ = try pending.affectedRows()
        }) { XCTAssertEqual(($0 as? PostgresError)?.kind, .connectionLost, "\($0)") }
        XCTAssertEqual(try admin.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 0)
        try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
        XCTAssertEqual(try admin.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 1)
    }
}
