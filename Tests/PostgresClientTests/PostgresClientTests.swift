import Foundation
import PostgresClient
import TestSupport
import XCTest

final class PostgresClientTests: XCTestCase {
    func testBindsAndDecodesEverySupportedTypeIncludingNull() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let bytes: [UInt8] = [0, 1, 0, 255, 0]
        let row = try db.query(
            "SELECT $1::int4, $2::int8, $3::text, $4::bytea, $5::uuid, $6::timestamptz, $7::bool, $8::jsonb, $9::text, $10::bytea",
            [Int32(-7), Int64.max, "héllo '; DROP TABLE x; --", bytes, id, when, true, PostgresJSON("{\"a\": [1, 2]}"),
             String?.none, [UInt8]?.none]
        )[0]
        XCTAssertEqual(try row.decode(0, as: Int32.self), -7)
        XCTAssertEqual(try row.decode(1, as: Int64.self), Int64.max)
        XCTAssertEqual(try row.decode(2, as: String.self), "héllo '; DROP TABLE x; --")
        XCTAssertEqual(try row.decode(3, as: [UInt8].self), bytes)
        XCTAssertEqual(try row.decode(4, as: UUID.self), id)
        XCTAssertEqual(try row.decode(5, as: Date.self).timeIntervalSince1970, when.timeIntervalSince1970, accuracy: 0.000001)
        XCTAssertEqual(try row.decode(6, as: Bool.self), true)
        XCTAssertEqual(try row.decode(7, as: String.self), "{\"a\": [1, 2]}")
        XCTAssertNil(try row.decode(8, as: String?.self))
        XCTAssertNil(try row.decode(9, as: [UInt8]?.self))
        XCTAssertThrowsError(try row.decode(8, as: String.self))
    }

    /// Every row of a result shares one buffer: each keeps its own values, an empty value is
    /// not NULL, and a result without columns still has its rows.
    func testRowsOfOneResultKeepTheirOwnValuesNullAndEmptyApart() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        let rows = try db.query("""
            SELECT i, CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN ''::bytea ELSE decode(repeat('ab', i), 'hex') END, i::text
            FROM generate_series(1, 300) AS i
            """)
        XCTAssertEqual(rows.count, 300)
        for (index, row) in rows.enumerated() {
            let i = index + 1
            XCTAssertEqual(row.count, 3)
            XCTAssertEqual(try row.decode(0, as: Int32.self), Int32(i))
            let value = try row.decode(1, as: [UInt8]?.self)
            switch i % 3 {
            case 0: XCTAssertNil(value, "row \(i)")
            case 1: XCTAssertEqual(value, [], "row \(i): empty, not NULL")
            default: XCTAssertEqual(value, [UInt8](repeating: 0xAB, count: i), "row \(i)")
            }
            XCTAssertEqual(try row.decode(2, as: String.self), String(i))
        }
        let columnless = try db.query("SELECT FROM generate_series(1, 3)")
        XCTAssertEqual(columnless.map(\.count), [0, 0, 0])
        XCTAssertThrowsError(try columnless[0].decode(0, as: Int32.self))
    }

    func testArraysSendManyRowsInOneStatement() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        try db.execute("CREATE TABLE t (id int8 PRIMARY KEY, v bytea)")
        let ids = (1...1000).map { Int64($0) }
        let values = ids.map { id in [UInt8](repeating: UInt8(id % 256), count: 60) + [0] }
        let inserted = try db.execute("INSERT INTO t SELECT * FROM unnest($1::int8[], $2::bytea[])",
                                      [PostgresArray(ids), PostgresArray(values)])
        XCTAssertEqual(inserted, 1000)
        let row = try db.query("SELECT v FROM t WHERE id = 513")[0]
        XCTAssertEqual(try row.decode(0, as: [UInt8].self), values[512])
        let names = try db.query("SELECT count(*) FROM unnest($1::text[]) AS n WHERE n LIKE 'a%'",
                                 [PostgresArray(["ab", "b", "ac"])])
        XCTAssertEqual(try names[0].decode(0, as: Int.self), 2)
    }

    func testServerErrorCarriesSQLState() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        try db.execute("CREATE TABLE u (k text PRIMARY KEY)")
        try db.execute("INSERT INTO u VALUES ($1)", ["a"])
        XCTAssertThrowsError(try db.execute("INSERT INTO u VALUES ($1)", ["a"])) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.sqlState, .uniqueViolation)
            XCTAssertEqual(pg?.kind, .server)
            XCTAssertNotNil(pg?.detail)
        }
    }

    func testTransactionRollsBackOnThrow() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        try db.execute("CREATE TABLE r (n int)")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.execute("INSERT INTO r VALUES (1)")
            throw Boom()
        })
        XCTAssertEqual(try db.query("SELECT count(*) FROM r")[0].decode(0, as: Int.self), 0)
        try db.transaction { try db.execute("INSERT INTO r VALUES (2)") }
        XCTAssertEqual(try db.query("SELECT count(*) FROM r")[0].decode(0, as: Int.self), 1)
    }

    func testSwallowedErrorInsideTransactionIsNotReportedAsCommit() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        XCTAssertThrowsError(try db.transaction {
            _ = try? db.execute("SELECT 1/0")
        })
        XCTAssertFalse(db.inTransaction)
    }

    func testNotifyWakesListenerAndTimeoutWhenNone() throws {
        let url = try TestDatabase.fresh()
        let listener = try PostgresConnection(url)
        try listener.listen("kek jobs")
        let quiet = ContinuousClock.now
        XCTAssertNil(try listener.waitForNotification(timeout: .milliseconds(200)))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - quiet, .milliseconds(190))

        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.1)
            try? PostgresConnection(url).notify("kek jobs", payload: "42")
        }
        thread.start()
        let start = ContinuousClock.now
        let note = try listener.waitForNotification(timeout: .seconds(5))
        XCTAssertEqual(note?.channel, "kek jobs")
        XCTAssertEqual(note?.payload, "42")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
    }

    func testReconnectsAfterBackendIsTerminated() throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url)
        let admin = try PostgresConnection(url)
        try db.listen("after_reset")
        let oldPID = db.backendPID
        try admin.execute("SELECT pg_terminate_backend($1)", [oldPID])
        Thread.sleep(forTimeInterval: 0.1)
        // A statement of its own runs in a transaction of its own: the BEGIN lost to the dead
        // session is sent again on a new one, so the caller does not even see the outage.
        XCTAssertEqual(try db.query("SELECT 1::int8")[0].decode(0, as: Int.self), 1)
        XCTAssertNotEqual(db.backendPID, oldPID)
        try admin.notify("after_reset", payload: "again")
        XCTAssertEqual(try db.waitForNotification(timeout: .seconds(5))?.payload, "again")
    }

    func testConnectionErrorNamesTargetButNotPassword() throws {
        XCTAssertThrowsError(try PostgresConnection("postgresql://kekuser:hunter2secret@127.0.0.1:1/nodb?connect_timeout=2")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("127.0.0.1:1/nodb"), text)
            XCTAssertFalse(text.contains("hunter2secret"), text)
        }
    }

    func testManyQueriesDoNotLeakResults() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        let before = Self.residentKilobytes()
        for i in 0..<100_000 {
            _ = try db.query("SELECT $1::int8, repeat('x', 100)", [i])
        }
        let growth = Self.residentKilobytes() - before
        XCTAssertLessThan(growth, 20_000, "resident memory grew by \(growth) KiB over 100k queries")
    }

    static func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
