import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// The roles of sql/006 and sql/044: a kek_app login sees the projects project_logins binds
/// it to (keyed on the login, not on a setting), kek_worker has what the worker's code paths need.
extension SecretStoreTests {
    private func appConnection(_ f: KeyFixture, projects: [UUID]) throws -> PostgresConnection {
        try PostgresConnection(try TestLogins.appURL(f.url, projects: projects))
    }

    func testRoleAppSeesAndChangesOnlyItsOwnProject() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let owner = SecretStore(connection: f.connection, keks: keks, actor: "owner")
        try owner.put(project: projectA, name: "A_SECRET", value: SecretBytes("a"))
        try owner.put(project: projectB, name: "B_SECRET", value: SecretBytes("b"))
        let keysOwner = SigningKeyStore(connection: f.connection, keks: keks, actor: "owner")
        _ = try keysOwner.generate(project: projectA)
        let bKey = try keysOwner.generate(project: projectB).record.id

        let db = try appConnection(f, projects: [projectA])
        let app = SecretStore(connection: db, keks: KEKCiphers(connection: db, rootKeys: f.rootKeys), actor: "app")
        XCTAssertEqual(try app.list(project: projectB), [], "B's secrets are invisible to A")
        XCTAssertEqual(try db.count("SELECT count(*) FROM project_secrets"), 1)
        XCTAssertEqual(try db.count("SELECT count(*) FROM signature_keys"), 1)
        XCTAssertThrowsError(try app.get(project: projectB, name: "B_SECRET"))
        XCTAssertEqual(try db.execute("UPDATE project_secrets SET description = 'x' WHERE project_id = $1", [projectB]), 0)
        XCTAssertEqual(try db.execute("DELETE FROM project_secrets WHERE project_id = $1", [projectB]), 0)
        XCTAssertEqual(try db.execute("UPDATE signature_keys SET status = 'revoked' WHERE id = $1", [bKey]), 0)
        XCTAssertThrowsError(try db.execute(
            "INSERT INTO project_secrets (project_id, name) VALUES ($1, 'SMUGGLED')", [projectB])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\($0)")
        }
        XCTAssertThrowsError(try db.execute(
            "UPDATE project_secrets SET project_id = $1 WHERE project_id = $2", [projectB, projectA]), "cannot move a row out")

        // What an application following DESIGN.md does: new DEK under the active KEK, seal, audit.
        try app.put(project: projectA, name: "A_NEW", value: SecretBytes("fresh"))
        try app.put(project: projectA, name: "A_SECRET", value: SecretBytes("a2"))
        XCTAssertEqual(try app.get(project: projectA, name: "A_SECRET").testCopy, Array("a2".utf8))
        XCTAssertThrowsError(try db.query("SELECT count(*) FROM audit_log"), "the app appends to the audit log, cannot read it")
        XCTAssertThrowsError(try db.execute("UPDATE keks SET state = 'retired'"), "the app cannot change KEKs")
        // The binding is the login's, not a setting the session can rewrite.
        try db.query("SELECT set_config('app.project_id', $1, false)", [projectB.uuidString.lowercased()])
        XCTAssertEqual(try db.count("SELECT count(*) FROM project_secrets"), 2, "still only A's rows (A_SECRET, A_NEW)")
        XCTAssertEqual(try db.execute("DELETE FROM project_secrets WHERE project_id = $1", [projectB]), 0)

        let other = try PostgresConnection(try TestLogins.appURL(f.url, login: TestLogins.otherApp, projects: []))
        XCTAssertEqual(try other.count("SELECT count(*) FROM project_secrets"), 0, "a login bound to no project sees nothing")
        XCTAssertEqual(try other.count("SELECT count(*) FROM signature_keys"), 0)

        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets"), 3)
        XCTAssertNil(try AuditLog.verify(f.connection).firstBrokenRow, "rows appended by kek_app chain correctly")
    }

    func testRoleWorkerCanRunTheImportAndStores() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        try f.connection.execute("SET ROLE kek_worker")
        defer { _ = try? f.connection.execute("RESET ROLE") }
        let report = try EnvImport.run(
            connection: f.connection, keks: keks,
            request: EnvImportRequest(project: projectA, envFile: try temporaryFile("A=1\nB=2\n")), actor: "worker", environment: [:])
        XCTAssertEqual(report.outcome, .imported)
        let store = SecretStore(connection: f.connection, keks: keks, actor: "worker")
        try store.put(project: projectB, name: "B", value: SecretBytes("b"))
        XCTAssertEqual(try store.list(project: projectA).count, 2, "the worker sees every project")
        try store.remove(project: projectA, name: "A")
        let keys = SigningKeyStore(connection: f.connection, keks: keks, actor: "worker")
        try keys.revoke(project: projectB, id: try keys.generate(project: projectB).record.id)
        XCTAssertNil(try AuditLog.verify(f.connection).firstBrokenRow)
        XCTAssertThrowsError(try f.connection.execute("DELETE FROM audit_log"))
    }
}
