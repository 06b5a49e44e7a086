import Foundation
import KeyManagement
import KeyWrapping
import PostgresClient
import XCTest

final class KEKLifecycleTests: XCTestCase {
    func testOnlyOneActiveKEKAndDemotionOnActivate() throws {
        let f = try KeyFixture()
        let first = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let second = try f.store.generate(rootKeys: f.rootKeys)
        XCTAssertEqual(try f.store.list().first { $0.id == second }?.state, .pending)
        try f.store.activate(second, rootKeys: f.rootKeys)
        let states = Dictionary(uniqueKeysWithValues: try f.store.list().map { ($0.id, $0.state) })
        XCTAssertEqual(states[first], .decryptOnly)
        XCTAssertEqual(states[second], .active)
        XCTAssertThrowsError(try f.connection.execute("UPDATE keks SET state = 'active' WHERE id = $1", [first])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "KK002", "decrypt_only -> active is not a lifecycle step")
        }
    }

    func testDatabaseRefusesDEKUnderNonActiveKEK() throws {
        let f = try KeyFixture()
        let old = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(3)
        _ = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        XCTAssertThrowsError(try f.connection.execute(
            "INSERT INTO data_keys (kek_id, wrapped_key) VALUES ($1, $2)", [old, [UInt8](repeating: 1, count: 61)])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, .checkViolation, "\($0)")
        }
        // Rewriting a row under its own (now decrypt-only) KEK is not a move and is allowed.
        XCTAssertEqual(try f.connection.execute("UPDATE data_keys SET wrapped_key = wrapped_key WHERE kek_id = $1", [old]), 3)
    }

    func testRetireRequiresZeroDEKsAndDestroyRequiresVerification() throws {
        let f = try KeyFixture()
        let old = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(2)
        let new = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        XCTAssertThrowsError(try f.store.retire(old)) {
            XCTAssertEqual($0 as? KeyManagementError, .deksRemain(kekID: old, count: 2, action: "retire"))
        }
        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        try f.connection.transaction {
            _ = try Rewrap.batch(f.connection, from: try keks.cipher(old), to: try keks.cipher(new), after: 0, limit: 100)
        }
        try f.store.retire(old)
        XCTAssertThrowsError(try f.store.scheduleDestruction(old, after: 0)) {
            XCTAssertEqual($0 as? KeyManagementError, .verificationRequired(kekID: old))
        }
        XCTAssertThrowsError(try f.store.scheduleDestruction(new, after: 0))
    }

    func testAuditChainVerifiesAndNamesFirstBrokenRow() throws {
        let f = try KeyFixture()
        _ = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        _ = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let good = try AuditLog.verify(f.connection)
        XCTAssertEqual(good.rows, 6)  // root_key.recorded, then generated + activated, generated + decrypt_only + activated
        XCTAssertNil(good.firstBrokenRow)
        XCTAssertNotNil(good.headHash)
        XCTAssertThrowsError(try f.connection.execute("UPDATE audit_log SET actor = 'mallory'"))
        XCTAssertThrowsError(try f.connection.execute("DELETE FROM audit_log"))
        // A superuser who disables the guard can edit, but the chain shows where.
        try f.connection.executeScript("""
            ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
            UPDATE audit_log SET actor = 'mallory' WHERE id = 3;
            ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
            """)
        XCTAssertEqual(try AuditLog.verify(f.connection).firstBrokenRow, 3)
    }

    func testRewrapBatchSkipsTamperedRowAndNamesIt() throws {
        let f = try KeyFixture()
        let old = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(10)
        let tampered: Int64 = try f.connection.query("SELECT min(id) + 4 FROM data_keys")[0].decode(0)
        try f.connection.execute(
            "UPDATE data_keys SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1) WHERE id = $1", [tampered])
        let new = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        let result = try f.connection.transaction {
            try Rewrap.batch(f.connection, from: try keks.cipher(old), to: try keks.cipher(new), after: 0, limit: 100)
        }
        XCTAssertEqual(result.rewrapped, 9)
        XCTAssertEqual(result.failures.map(\.dekId), [tampered])
        XCTAssertTrue(result.failures[0].reason.contains("\(tampered)"), result.failures[0].reason)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [new]), 9)
        XCTAssertEqual(try f.count("SELECT wrap_count FROM keks WHERE id = $1", [new]), 9)
        for row in try f.connection.query("SELECT id FROM data_keys WHERE kek_id = $1", [new]) {
            _ = try DataKeys.open(f.connection, id: try row.decode(0), keks: keks)
        }
    }

    func testMissingRootKeyFailsLoudlyAndCreatesNothing() throws {
        let f = try KeyFixture()
        let kek = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let other = RootKeys(keyring: try .parse("r2:" + Data(repeating: 9, count: 32).base64EncodedString()))
        XCTAssertThrowsError(try KEKCiphers(connection: f.connection, rootKeys: other).cipher(kek)) {
            XCTAssertTrue("\($0)".contains("root key 'r1' is not in KEK_ROOT_KEYS"), "\($0)")
        }
        XCTAssertEqual(try f.count("SELECT count(*) FROM keks"), 1)
    }

    func testWrapLimitRefusesBeyondLimit() throws {
        let f = try KeyFixture()
        let kek = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.connection.execute("UPDATE keks SET wrap_count = $2 WHERE id = $1", [kek, KEKPolicy.wrapLimit - 1])
        XCTAssertThrowsError(try f.connection.transaction {
            try DataKeys.recordWraps(f.connection, kekID: kek, count: 2)
        }) { XCTAssertTrue("\($0)".contains("limit"), "\($0)") }
    }
}
