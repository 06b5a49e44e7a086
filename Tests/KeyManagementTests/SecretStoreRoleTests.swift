import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// The roles of sql/006_roles.sql: kek_app sees one project through row-level security,
/// kek_worker has what the worker's code paths need.
extension SecretStoreTests {
    private func asApp(_ f: KeyFixture, project: UUID?) throws {
        try f.connection.execute("RESET ROLE")
        try f.connection.execute("SET ROLE kek_app")
        try f.connection.query("SELECT set_config('app.project_id', $1, false)", [project.map { $0.uuidString.lowercased() } ?? ""])
    }

    func testRoleAppSeesAndChangesOnlyItsOwnProject() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let owner = SecretStore(connection: f.connection, keks: keks, actor: "owner")
        try owner.put(project: projectA, name: "A_SECRET", value: SecretBytes("a"))
        try owner.put(project: projectB, name: "B_SECRET", value: SecretBytes("b"))
        let keysOwner = SigningKeyStore(connection: f.connection, keks: keks, actor: "owner")
        _ = try keysOwner.generate(project: projectA)
        let bKey = try keysOwner.generate(project: projectB).record.id

        try asApp(f, project: projectA)
        defer { _ = try? f.connection.execute("RESET ROLE") }
        let app = SecretStore(connection: f.connection, keks: keks, actor: "app")
        XCTAssertEqual(try app.list(project: projectB), [], "B's secrets are invisible to A")
        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets"), 1)
        XCTAssertEqual(try f.count("SELECT count(*) FROM signature_keys"), 1)
        XCTAssertThrowsError(try app.get(project: projectB, name: "B_SECRET"))
        XCTAssertEqual(try f.connection.execute("UPDATE project_secrets SET description = 'x' WHERE project_id = $1", [projectB]), 0)
        XCTAssertEqual(try f.connection.execute("DELETE FROM project_secrets WHERE project_id = $1", [projectB]), 0)
        XCTAssertEqual(try f.connection.execute("UPDATE signature_keys SET status = 'revoked' WHERE id = $1", [bKey]), 0)
        XCTAssertThrowsError(try f.connection.execute(
            "INSERT INTO project_secrets (project_id, name) VALUES ($1, 'SMUGGLED')", [projectB])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\($0)")
        }
        XCTAssertThrowsError(try f.connection.execute(
            "UPDATE project_secrets SET project_id = $1 WHERE project_id = $2", [projectB, projectA]), "cannot move a row out")

        // What an application following DESIGN.md does: new DEK under the active KEK, seal, audit.
        try app.put(project: projectA, name: "A_NEW", value: SecretBytes("fresh"))
        try app.put(project: projectA, name: "A_SECRET", value: SecretBytes("a2"))
        XCTAssertEqual(try app.get(project: projectA, name: "A_SECRET").testCopy, Array("a2".utf8))
        XCTAssertThrowsError(try f.connection.query("SELECT count(*) FROM audit_log"), "the app appends to the audit log, cannot read it")
        XCTAssertThrowsError(try f.connection.execute("UPDATE keks SET state = 'retired'"), "the app cannot change KEKs")

        try asApp(f, project: nil)
        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets"), 0, "no project set: nothing visible")
        XCTAssertEqual(try f.count("SELECT count(*) FROM signature_keys"), 0)

        try f.connection.execute("RESET ROLE")
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
