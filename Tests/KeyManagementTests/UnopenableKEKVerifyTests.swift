import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// What `kek verify` says about a KEK this keyring cannot open: a failure while it is in use
/// or compromised, and for every DEK under it; not a failure once it is retired (so it has no
/// DEKs), so the verification that destruction needs can pass (runbooks/unopenable-kek.md).
final class UnopenableKEKVerifyTests: XCTestCase {
    func testUnopenableKEKFailsVerifyUntilRetiredWithoutDEKs() throws {
        let f = try KeyFixture()
        let good = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(2)
        try f.connection.execute("UPDATE keks SET state = 'decrypt_only' WHERE id = $1", [good])
        let lost: Int32 = try f.connection.query("""
            INSERT INTO keks (root_key_id, wrapped_key, state) VALUES ('lost', $1, 'pending') RETURNING id
            """, [[UInt8](repeating: 1, count: 61)])[0].decode(0)
        try f.connection.execute("UPDATE keks SET state = 'active', activated_at = now() WHERE id = $1", [lost])
        let orphan: Int64 = try f.connection.query("INSERT INTO data_keys (kek_id, wrapped_key) VALUES ($1, $2) RETURNING id",
                                                   [lost, [UInt8](repeating: 2, count: 60)])[0].decode(0)
        let verifier = Verifier(connection: f.connection, rootKeys: f.rootKeys)

        let withDEK = try verifier.run(openValues: false, actor: "test")
        XCTAssertFalse(withDEK.passed)
        XCTAssertEqual(Set(withDEK.failures.map { "\($0.table):\($0.id)" }), ["keks:\(lost)", "data_keys:\(orphan)"])
        XCTAssertEqual(withDEK.unopenableRetiredKEKs, [])

        try f.connection.execute("DELETE FROM data_keys WHERE id = $1", [orphan])
        try f.connection.execute("UPDATE keks SET state = 'compromised' WHERE id = $1", [lost])
        let compromised = try verifier.run(openValues: false, actor: "test")
        XCTAssertEqual(compromised.failures.map(\.id), ["\(lost)"], "compromised, it is still in the way")
        XCTAssertTrue(compromised.failures.first?.reason.contains("kek keys retire \(lost)") == true, "\(compromised.failures)")

        try f.store.retire(lost)
        let retired = try verifier.run(openValues: false, actor: "test")
        XCTAssertTrue(retired.passed, "\(retired.failures)")
        XCTAssertEqual(retired.unopenableRetiredKEKs, [lost])
        XCTAssertEqual(retired.deksPerKek[good], 2)
        XCTAssertEqual(try f.count("SELECT count(*) FROM kek_verifications WHERE failures = 0"), 1, "the destruction proof")
    }
}
