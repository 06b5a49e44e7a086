import Foundation
import PostgresClient
import TestSupport
import XCTest

/// `transaction {}` and session state on connections whose server session went away.
final class TransactionReconnectTests: XCTestCase {
    /// Terminates `db`'s server session from another connection and waits until it is gone.
    private func terminate(_ db: PostgresConnection, via admin: PostgresConnection) throws {
        let pid = db.backendPID
        try admin.execute("SELECT pg_terminate_backend($1)", [pid])
        let deadline = Date().addingTimeInterval(5)
        while try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [pid])[0].decode(0, as: Int.self) > 0,
              Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    func testTransactionOnTerminatedBackendReconnectsFirstAndCommits() throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url)
        let admin = try PostgresConnection(url)
        try db.execute("CREATE TABLE t (v int8)")
        let oldPID = db.backendPID
        try terminate(db, via: admin)
        // The dead session is not "in a transaction"; the transaction reconnects, then runs.
        try db.transaction { try db.execute("INSERT INTO t VALUES (1)") }
        XCTAssertNotEqual(db.backendPID, oldPID)
        XCTAssertFalse(db.inTransaction)
        XCTAssertEqual(try admin.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 1)
        // And again, once the broken state is known: a statement sent bare (no settings, so no
        // transaction of its own) fails in flight and marks the connection broken.
        try terminate(db, via: admin)
        db.transactionSettings = [:]
        XCTAssertThrowsError(try db.query("SELECT 1")) { error in
            XCTAssertTrue((error as? PostgresError)?.isTransient ?? false, "\(error)")
        }
        XCTAssertFalse(db.inTransaction)
        try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
        XCTAssertEqual(try admin.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 2)
    }

    func testConnectionLostInsideTransactionThrowsAndNothingRunsOutsideIt() throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url)
        let admin = try PostgresConnection(url)
        try db.execute("CREATE TABLE t (v int8)")
        XCTAssertThrowsError(try db.transaction {
            try db.execute("INSERT INTO t VALUES (1)")
            try terminate(db, via: admin)
            _ = try? db.execute("INSERT INTO t VALUES (2)") // swallowed: must not reconnect and autocommit
            try db.execute("INSERT INTO t VALUES (3)")
        }) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .connectionLost, "\(error)")
        }
        XCTAssertEqual(try admin.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self), 0)
        try db.transaction { try db.execute("INSERT INTO t VALUES (4)") }
        XCTAssertEqual(try admin.query("SELECT array_agg(v)::text FROM t")[0].decode(0, as: String.self), "{4}")
    }

    func testTransactionSettingsEndWithTheTransactionAndNothingIsSetForTheSession() throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url)
        db.transactionSettings = ["statement_timeout": "1234ms"]
        let inside: String = try db.transaction(settings: ["lock_timeout": "567ms"]) {
            try db.query("SELECT current_setting('statement_timeout') || ' ' || current_setting('lock_timeout')")[0].decode(0)
        }
        XCTAssertEqual(inside, "1234ms 567ms")
        db.transactionSettings = [:] // a statement of its own now runs as sent: it sees the session as it is
        let after: String = try db.query("""
            SELECT current_setting('statement_timeout') || ' ' || current_setting('lock_timeout') || ' '
                   || current_setting('client_min_messages')
            """)[0].decode(0)
        XCTAssertEqual(after, "0 0 notice")
        // No application_name unless the connection string names one (then in the startup packet).
        let source: String = try db.query("SELECT source FROM pg_settings WHERE name = 'application_name'")[0].decode(0)
        XCTAssertEqual(source, "default")
        let explicit = try PostgresConnection(url + " application_name=mine")
        XCTAssertEqual(try explicit.query("SELECT current_setting('application_name') || ' ' || source FROM pg_settings "
                                          + "WHERE name = 'application_name'")[0].decode(0, as: String.self), "mine client")
    }

    func testOutageIsReportedOnceWithBoundedBackOff() {
        var outage = ConnectionOutage(initialDelay: 0.25, maximumDelay: 2)
        let first = outage.failed()
        XCTAssertTrue(first.started)
        XCTAssertEqual(first.delay, 0.25)
        let delays = (0..<10).map { _ in outage.failed() }
        XCTAssertFalse(delays.contains { $0.started })
        XCTAssertEqual(delays.last?.delay, 2)
        XCTAssertNotNil(outage.recovered())
        XCTAssertNil(outage.recovered())
        XCTAssertTrue(outage.failed().started)
        XCTAssertTrue(ConnectionOutage.isOutage(PostgresError(.connectionLost, message: "x")))
        XCTAssertTrue(ConnectionOutage.isOutage(PostgresError(.server, sqlState: "57P01", message: "x")))
        XCTAssertFalse(ConnectionOutage.isOutage(PostgresError(.server, sqlState: "42501", message: "x")))
    }
}
