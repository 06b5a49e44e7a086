import Foundation
import KeyManagement
import KeyWrapping
import PostgresClient
import XCTest

/// The GCM budget is counted and enforced by the database (sql/031_wrap_budget.sql), for
/// DEKs that applications insert as well as kek's own, with one limit for every process.
final class WrapBudgetTests: XCTestCase {
    /// Inserts one DEK as an application following DESIGN.md would: as kek_app, giving only
    /// the columns DESIGN.md names.
    private func insertAsApplication(_ f: KeyFixture, under kek: KEKCipher) throws {
        try f.connection.execute("SET ROLE kek_app")
        defer { _ = try? f.connection.execute("RESET ROLE") }
        try f.connection.transaction {
            let id: Int64 = try f.connection.query("SELECT nextval(pg_get_serial_sequence('data_keys', 'id'))")[0].decode(0)
            try f.connection.execute("INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES ($1, $2, $3)",
                                     [id, kek.kekID, try kek.wrapDEK(try KeyGenerator.newDEK(), dekID: id)])
        }
    }

    func testApplicationInsertedDEKsAreCountedAndRefusedAtTheLimitByTheDatabase() throws {
        let f = try KeyFixture()
        let kekID = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let kek = try KEKCiphers(connection: f.connection, rootKeys: f.rootKeys).active()
        try f.seedDEKs(2)
        try insertAsApplication(f, under: kek)
        XCTAssertEqual(try KEKPolicy.wraps(f.connection, kek: kekID), 3, "the application's DEK is counted")
        XCTAssertEqual(try f.store.list().first { $0.id == kekID }?.wrapCount, 3)

        try KEKPolicy.setWrapLimit(f.connection, 4)
        try insertAsApplication(f, under: kek)
        XCTAssertThrowsError(try insertAsApplication(f, under: kek)) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "54000", "\(error)")
            XCTAssertTrue("\(error)".contains("KEK \(kekID) has made 4 wraps"), "\(error)")
            XCTAssertTrue("\(error)".contains("the wrap limit is 4"), "\(error)")
        }
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys"), 4)
    }

    /// The counters only the owner writes; keks.wrap_count (the count before sql/031) is
    /// guarded by the KEK lifecycle triggers of issue #16.
    func testNoLoginRoleCanLowerTheCount() throws {
        let f = try KeyFixture()
        let kekID = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(5)
        for role in ["kek_app", "kek_worker"] {
            try f.connection.execute("SET ROLE \(role)")
            for statement in ["UPDATE kek_wrap_counters SET wraps = 0", "DELETE FROM kek_wrap_counters",
                              "INSERT INTO kek_wrap_counters (kek_id, wraps) VALUES (\(kekID), 0)"] {
                XCTAssertThrowsError(try f.connection.execute(statement), "\(role): \(statement)") {
                    XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\($0)")
                }
            }
            XCTAssertThrowsError(try f.connection.execute("SELECT kek_add_wraps(\(kekID), -5)"), role)
            try f.connection.execute("RESET ROLE")
        }
        XCTAssertEqual(try KEKPolicy.wraps(f.connection, kek: kekID), 5)
    }

    /// An application raises a KEK's count only by inserting DEKs under it: the old counting
    /// function is gone (sql/090), and keks, the counters and the counting function are closed to it.
    func testApplicationRaisesTheCountOnlyByInsertingDEKs() throws {
        let f = try KeyFixture()
        let kekID = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let kek = try KEKCiphers(connection: f.connection, rootKeys: f.rootKeys).active()
        try f.seedDEKs(2)
        let refusals: [(String, SQLState)] = [
            ("SELECT kek_record_wraps(\(kekID), 1000, 1000000)", "42883"),
            ("UPDATE keks SET wrap_count = wrap_count + 1000 WHERE id = \(kekID)", .insufficientPrivilege),
            ("UPDATE kek_wrap_counters SET wraps = wraps + 1000", .insufficientPrivilege),
            ("INSERT INTO kek_wrap_counters (kek_id, wraps) VALUES (\(kekID), 1000)", .insufficientPrivilege),
            ("SELECT kek_add_wraps(\(kekID), 1000)", .insufficientPrivilege),
            ("UPDATE data_keys SET wrapped_key = wrapped_key", .insufficientPrivilege),
        ]
        try f.connection.execute("SET ROLE kek_app")
        for (statement, expected) in refusals {
            XCTAssertThrowsError(try f.connection.execute(statement), statement) {
                XCTAssertEqual(($0 as? PostgresError)?.sqlState, expected, "\(statement): \($0)")
            }
        }
        try f.connection.execute("RESET ROLE")
        XCTAssertEqual(try KEKPolicy.wraps(f.connection, kek: kekID), 2, "no refused statement counted anything")
        try insertAsApplication(f, under: kek)
        XCTAssertEqual(try KEKPolicy.wraps(f.connection, kek: kekID), 3, "an inserted DEK counts one wrap")
        XCTAssertEqual(try f.store.list().first { $0.id == kekID }?.wrapCount, 3, "keks list reads the counted value")
    }

    /// Counting takes no lock another inserting transaction waits for: while one application
    /// transaction that inserted a DEK is still open, another inserts under the same KEK at once.
    func testConcurrentInsertsUnderTheSameKEKDoNotWaitForEachOther() throws {
        let f = try KeyFixture()
        let kekID = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(1)
        let kek = try KEKCiphers(connection: f.connection, rootKeys: f.rootKeys).active()
        let open = try PostgresConnection(f.url)
        try open.execute("BEGIN")
        try open.execute("INSERT INTO data_keys (kek_id, wrapped_key) VALUES ($1, $2)",
                         [kekID, try kek.wrapDEK(try KeyGenerator.newDEK(), dekID: 1_000_000)])
        let other = try PostgresConnection(f.url)
        try other.execute("SET lock_timeout = '2s'")
        let started = Date()
        for _ in 0..<3 {
            try other.execute("INSERT INTO data_keys (kek_id, wrapped_key) VALUES ($1, $2)",
                              [kekID, try kek.wrapDEK(try KeyGenerator.newDEK(), dekID: 1_000_001)])
        }
        print("3 inserts beside an open inserting transaction took \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        XCTAssertEqual(try KEKPolicy.wraps(f.connection, kek: kekID), 4, "the open transaction's wrap is not visible yet")
        try open.execute("COMMIT")
        XCTAssertEqual(try KEKPolicy.wraps(f.connection, kek: kekID), 5)
    }

    func testRotationPlanRefusesWhenTheNewKEKsBudgetCannotHoldEveryDEK() throws {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(10)
        try KEKPolicy.setWrapLimit(f.connection, 9)
        let plan = try RotationPlan.make(f.connection)
        XCTAssertFalse(plan.fits)
        XCTAssertThrowsError(try plan.checkBudget()) { XCTAssertTrue("\($0)".contains("10 DEKs"), "\($0)") }
        XCTAssertThrowsError(try RotationPreparation.make(f.connection, rewrapOnly: nil, parts: 8))
        XCTAssertEqual(try f.count("SELECT count(*) FROM keks"), 1, "nothing generated")
    }
}
