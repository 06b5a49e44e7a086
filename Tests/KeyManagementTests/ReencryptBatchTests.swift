import Foundation
import KeyManagement
import XCTest

/// A re-encryption batch that meets a bad row commits none of that row's changes and the
/// rest of the batch.
final class ReencryptBatchTests: XCTestCase {
    func testABadValueLeavesItsDEKAndValueUntouchedAndTheRestMoves() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let project = UUID()
        let store = SecretStore(connection: f.connection, keks: keks, actor: "test")
        for index in 0..<5 { try store.put(project: project, name: "S\(index)", value: SecretBytes("value-\(index)")) }
        let old = try keks.activeID()
        let bad: Int64 = try f.connection.query("SELECT dek_id FROM project_secrets WHERE name = 'S2'")[0].decode(0)
        try f.connection.execute(
            "UPDATE project_secrets SET ciphertext = set_byte(ciphertext, 20, get_byte(ciphertext, 20) # 1) WHERE name = 'S2'")
        let before = try f.count("SELECT count(*) FROM data_keys")
        _ = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let fresh = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        let result = try f.connection.transaction {
            try Reencrypt.batch(f.connection, keks: fresh, kekID: old, after: 0, limit: 100)
        }
        XCTAssertEqual(result.deksReplaced, 4)
        XCTAssertEqual(result.failures.map(\.dekId), [bad])
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [old]), 1)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys"), before, "no new DEK left behind for the bad row")
        XCTAssertEqual(try f.connection.query("SELECT dek_id FROM project_secrets WHERE name = 'S2'")[0].decode(0, as: Int64.self), bad)
        XCTAssertEqual(try store.get(project: project, name: "S0").testCopy, Array("value-0".utf8))
    }
}
