import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// Root key identities and "prove before you create", against the real database.
final class RootKeyIdentityTests: XCTestCase {
    static let impostorLine = "r1:" + Data(repeating: 8, count: 32).base64EncodedString()
    static let strangerLine = "r9:" + Data(repeating: 9, count: 32).base64EncodedString()

    func keys(_ line: String) throws -> RootKeys { RootKeys(keyring: try Keyring.parse(line)) }

    /// Rows of every table a refused operation must leave alone.
    func snapshot(_ f: KeyFixture) throws -> [Int] {
        try ["keks", "audit_log", "root_keys", "data_keys"].map { try f.count("SELECT count(*) FROM \($0)") }
    }

    func testFirstWrapRecordsTheCheckValueAndTheDatabaseNeverChangesIt() throws {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let stored: [UInt8] = try f.connection.query("SELECT check_value FROM root_keys WHERE id = 'r1'")[0].decode(0)
        XCTAssertEqual(stored, try f.rootKeys.cipher(id: "r1").checkValue().bytes)
        XCTAssertThrowsError(try f.connection.execute("UPDATE root_keys SET check_value = $1", [[UInt8](repeating: 0, count: 16)])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23000", "\($0)")
        }
        XCTAssertThrowsError(try f.connection.execute("TRUNCATE root_keys"))
    }

    func testSameIDWithAnotherKeyIsRefusedEverywhereAndWritesNothing() throws {
        let f = try KeyFixture()
        let active = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(3)
        let impostor = try keys(Self.impostorLine)
        let before = try snapshot(f)
        XCTAssertThrowsError(try RootKeyIdentities.verify(f.connection, impostor)) {
            XCTAssertEqual($0 as? KeyManagementError, .rootKeyMismatch(id: "r1"))
            XCTAssertTrue("\($0)".contains("root key 'r1'"), "\($0)")
        }
        XCTAssertThrowsError(try f.store.generate(rootKeys: impostor, activate: true)) {
            XCTAssertEqual($0 as? KeyManagementError, .rootKeyMismatch(id: "r1"))
        }
        XCTAssertThrowsError(try RootRotation.run(f.connection, rootKeys: impostor, actor: "test"))
        XCTAssertThrowsError(try f.store.markCompromised(active, rootKeys: impostor))
        XCTAssertEqual(try snapshot(f), before)
        XCTAssertNotNil(try KeyReadiness.reason(f.connection, actor: "test", environment: ["KEK_ROOT_KEYS": Self.impostorLine]))
    }

    func testKeyringLackingTheActiveRootIsRefusedNamingIt() throws {
        let f = try KeyFixture()
        let active = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let pending = try f.store.generate(rootKeys: f.rootKeys)
        let stranger = try keys(Self.strangerLine)
        let before = try snapshot(f)
        XCTAssertThrowsError(try f.store.generate(rootKeys: stranger, activate: true)) { error in
            guard case let .keyringUnproven(failures)? = error as? KeyManagementError else { return XCTFail("\(error)") }
            XCTAssertEqual(failures.map(\.rootKeyID), ["r1"])
            XCTAssertTrue("\(error)".contains("lacks root key(s) r1"), "\(error)")
            XCTAssertTrue("\(error)".contains("nothing was written"), "\(error)")
        }
        XCTAssertThrowsError(try f.store.activate(pending, rootKeys: stranger))
        XCTAssertThrowsError(try RootRotation.run(f.connection, rootKeys: stranger, actor: "test"))
        // With the active KEK marked compromised nothing is left in use; the stranger still may not plant one.
        XCTAssertThrowsError(try f.store.markCompromised(active, rootKeys: stranger)) {
            XCTAssertEqual($0 as? KeyManagementError, .rootKeyUnknown(id: "r9", known: ["r1"]))
        }
        XCTAssertEqual(try snapshot(f), before)
        let reason = try XCTUnwrap(try KeyReadiness.reason(f.connection, actor: "test", environment: ["KEK_ROOT_KEYS": Self.strangerLine]))
        XCTAssertTrue(reason.contains("r1"), reason)
        XCTAssertNotNil(try KeyReadiness.reason(f.connection, actor: "test", environment: [:]))
        XCTAssertNil(try KeyReadiness.reason(f.connection, actor: "test", environment: ["KEK_ROOT_KEYS": TestRootKey.line]))
        XCTAssertFalse(try KEKHealth.findings(f.connection, rootKeys: stranger).isEmpty)
        XCTAssertEqual(try KEKHealth.findings(f.connection, rootKeys: f.rootKeys), [])
    }

    func testNewRootKeyComesInBesideAKnownOneThroughRootRotation() throws {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let both = try keys("r2:" + Data(repeating: 5, count: 32).base64EncodedString() + "," + TestRootKey.line)
        let outcome = try RootRotation.run(f.connection, rootKeys: both, actor: "test")
        XCTAssertEqual(outcome.rewrapped.count, 1)
        XCTAssertEqual(try f.count("SELECT count(*) FROM root_keys"), 2)
        let onlyNew = try keys("r2:" + Data(repeating: 5, count: 32).base64EncodedString())
        try f.store.generate(rootKeys: onlyNew, activate: true)
        XCTAssertEqual(try f.count("SELECT count(*) FROM keks WHERE root_key_id = 'r2'"), 2)
    }

    func testKEKsFromBeforeTheTableAreRecordedOnceAKeyringOpensThem() throws {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.connection.execute("DELETE FROM root_keys")  // as if migrated from before 010
        XCTAssertEqual(try KEKHealth.findings(f.connection, rootKeys: nil).count, 1)
        // A keyring that cannot open the KEK does not plant its identity.
        XCTAssertNotNil(try KeyReadiness.reason(f.connection, actor: "test", environment: ["KEK_ROOT_KEYS": Self.impostorLine]))
        XCTAssertEqual(try f.count("SELECT count(*) FROM root_keys"), 0)
        XCTAssertNil(try KeyReadiness.reason(f.connection, actor: "test", environment: ["KEK_ROOT_KEYS": TestRootKey.line]))
        XCTAssertEqual(try f.count("SELECT count(*) FROM root_keys WHERE id = 'r1'"), 1)
        XCTAssertEqual(try KEKHealth.findings(f.connection, rootKeys: nil), [])
    }
}
