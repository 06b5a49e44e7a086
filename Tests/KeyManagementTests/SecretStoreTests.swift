import Foundation
import KeyManagement
import KeyWrapping
import PostgresClient
import XCTest

/// One XCTestCase spread over SecretStore*Tests.swift (extensions), so `--filter SecretStoreTests` runs all of it.
final class SecretStoreTests: XCTestCase {
    let project = UUID()
    let projectA = UUID()
    let projectB = UUID()

    func testPutGetUpdateListRemove() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let store = SecretStore(connection: f.connection, keks: keks, actor: "tester")
        let first = try store.put(project: project, name: "STRIPE_API_KEY", value: SecretBytes("sk_test_1"), description: "payments")
        XCTAssertEqual(first.version, 1)
        XCTAssertTrue(first.hasValue)
        XCTAssertEqual(try store.get(project: project, name: "STRIPE_API_KEY").testCopy, Array("sk_test_1".utf8))
        let oldDEK: Int64 = try f.connection.query("SELECT dek_id FROM project_secrets WHERE id = $1", [first.id])[0].decode(0)

        let second = try store.put(project: project, name: "STRIPE_API_KEY", value: SecretBytes([0, 255, 10]))
        XCTAssertEqual(second.id, first.id)
        XCTAssertEqual(second.version, 2)
        XCTAssertEqual(second.description, "payments", "a put without description keeps the old one")
        XCTAssertEqual(try store.get(project: project, name: "STRIPE_API_KEY").testCopy, [0, 255, 10], "binary values are exact")
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE id = $1", [oldDEK]), 0, "old DEK deleted with the update")
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys"), 1)

        XCTAssertEqual(try store.list(project: project).map(\.name), ["STRIPE_API_KEY"])
        XCTAssertEqual(try store.list(project: UUID()), [], "another project sees nothing")
        XCTAssertThrowsError(try store.get(project: UUID(), name: "STRIPE_API_KEY"))

        try store.remove(project: project, name: "STRIPE_API_KEY")
        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets"), 0)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys"), 0, "rm deletes the DEK too")
        let actions: [String] = try f.connection.query(
            "SELECT action FROM audit_log WHERE action LIKE 'secret.%' ORDER BY id").map { try $0.decode(0) }
        XCTAssertEqual(actions, ["secret.created", "secret.accessed", "secret.updated", "secret.accessed", "secret.deleted"])
        XCTAssertEqual(try f.count("SELECT count(*) FROM audit_log WHERE actor = 'tester' AND action LIKE 'secret.%'"), 5)
        XCTAssertNil(try AuditLog.verify(f.connection).firstBrokenRow)
    }

    func testCiphertextIsBoundToItsRowAndProject() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let store = SecretStore(connection: f.connection, keks: keks, actor: "tester")
        try store.put(project: project, name: "A", value: SecretBytes("alpha"))
        let other = UUID()
        try store.put(project: other, name: "A", value: SecretBytes("beta"))
        // Move project 1's ciphertext and DEK onto project 2's row: AAD names the row, so it must not open.
        try f.connection.execute("""
            UPDATE project_secrets t SET dek_id = s.dek_id, ciphertext = s.ciphertext
            FROM project_secrets s WHERE s.project_id = $1 AND t.project_id = $2
            """, [project, other])
        XCTAssertThrowsError(try store.get(project: other, name: "A"))
    }

    func testInvalidNamesAndOversizeValuesAreRefused() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let store = SecretStore(connection: f.connection, keks: keks, actor: "tester")
        for name in ["", "1ABC", "A-B", "A B", "ÄPFEL"] {
            XCTAssertThrowsError(try store.put(project: project, name: name, value: SecretBytes("x")), name)
        }
        XCTAssertThrowsError(try store.put(project: project, name: "BIG",
                                           value: SecretBytes([UInt8](repeating: 65, count: SecretName.maxValueBytes + 1))))
        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets"), 0)
    }

    func testSigningKeyLifecycleIsAudited() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let store = SigningKeyStore(connection: f.connection, keks: keks, actor: "tester")
        let (record, key) = try store.generate(project: project)
        XCTAssertEqual(key.count, 32)
        XCTAssertEqual(record.status, .active)
        XCTAssertEqual(try store.open(project: project, id: record.id).testCopy, key.testCopy)
        XCTAssertThrowsError(try store.open(project: UUID(), id: record.id), "another project cannot open it")
        XCTAssertThrowsError(try store.reactivate(project: project, id: record.id)) {
            XCTAssertEqual($0 as? SecretStoreError, .signingKeyStatus(id: record.id, status: "active", action: "reactivate"))
        }
        let revoked = try store.revoke(project: project, id: record.id)
        XCTAssertEqual(revoked.status, .revoked)
        XCTAssertNotNil(revoked.revokedAt)
        XCTAssertThrowsError(try store.revoke(project: project, id: record.id))
        let again = try store.reactivate(project: project, id: record.id)
        XCTAssertEqual(again.status, .active)
        XCTAssertNil(again.revokedAt)
        XCTAssertThrowsError(try store.revoke(project: UUID(), id: record.id))
        XCTAssertEqual(try store.list(project: project).count, 1)
        let actions: [String] = try f.connection.query(
            "SELECT action FROM audit_log WHERE action LIKE 'signing_key.%' ORDER BY id").map { try $0.decode(0) }
        XCTAssertEqual(actions, ["signing_key.generated", "signing_key.revoked", "signing_key.reactivated"])
        let ciphertext: [UInt8] = try f.connection.query("SELECT ciphertext FROM signature_keys")[0].decode(0)
        XCTAssertEqual(ciphertext.count, 1 + 12 + 32 + 16, "envelope v1 of 32 bytes")
    }
}
