import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// `EnvImport.run`, the library core of `kek import-env` (the `import_env` job kind is retired).
extension SecretStoreTests {
    private func run(_ f: KeyFixture, _ keks: KEKCiphers, _ request: EnvImportRequest, env: [String: String] = [:]) throws -> EnvImportReport {
        try EnvImport.run(connection: f.connection, keks: keks, request: request, actor: "tester", environment: env)
    }

    private func statuses(_ report: EnvImportReport) -> [String: EnvImportReport.Status] {
        Dictionary(uniqueKeysWithValues: report.entries.map { ($0.name, $0.status) })
    }

    private func refusal(_ body: () throws -> EnvImportReport) -> EnvImportReport? {
        do {
            _ = try body()
            XCTFail("expected a refusal")
        } catch EnvImportError.refused(let report) {
            return report
        } catch {
            XCTFail("unexpected \(error)")
        }
        return nil
    }

    func testImportCreateUnchangedConflictUpdateSkipAndStubs() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let file = try temporaryFile("A=1\nB='two'\n")
        let manifest = try temporaryFile(#"{"properties": {"A": {"description": "first"}, "GHOST": {"description": "later"}}}"#,
                                         suffix: ".json")
        let env = ["APP_C": "three", "OTHER": "ignored"]
        let request = EnvImportRequest(project: project, envFile: file, prefix: "APP_", stripPrefix: true, manifest: manifest)

        let dry = try run(f, keks, { var r = request; r.dryRun = true; return r }(), env: env)
        XCTAssertEqual(dry.outcome, .dryRun)
        XCTAssertEqual(statuses(dry), ["A": .created, "B": .created, "C": .created, "GHOST": .missing])
        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets"), 0, "a dry run writes nothing")
        XCTAssertEqual(try f.count("SELECT count(*) FROM audit_log WHERE action = 'env.imported'"), 0)

        let first = try run(f, keks, request, env: env)
        XCTAssertEqual(first.outcome, .imported)
        XCTAssertEqual(statuses(first), ["A": .created, "B": .created, "C": .created, "GHOST": .missing])
        XCTAssertEqual(first.removableVariables.sorted(), ["A", "APP_C", "B"])
        let store = SecretStore(connection: f.connection, keks: keks, actor: "tester")
        XCTAssertEqual(try store.get(project: project, name: "C").testCopy, Array("three".utf8))
        let records = Dictionary(uniqueKeysWithValues: try store.list(project: project).map { ($0.name, $0) })
        XCTAssertEqual(records["A"]?.description, "first")
        XCTAssertEqual(records["GHOST"]?.hasValue, false)
        XCTAssertEqual(records["GHOST"]?.version, 0)
        XCTAssertEqual(records["GHOST"]?.description, "later")

        let second = try run(f, keks, request, env: env)
        XCTAssertEqual(Set(second.entries.filter { $0.origin != "manifest" }.map(\.status)), [.unchanged])
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys"), 3, "a re-run creates no DEK")

        let changedEnv = ["APP_C": "THREE"]
        let secretsBefore = try f.digest("project_secrets")
        let conflict = refusal { try run(f, keks, request, env: changedEnv) }
        XCTAssertEqual(conflict?.outcome, .refusedConflicts)
        XCTAssertEqual(conflict?.entries.filter { $0.status == .conflict }.map(\.name), ["C"])
        XCTAssertEqual(try f.digest("project_secrets"), secretsBefore)

        let skipped = try run(f, keks, { var r = request; r.onConflict = .skip; return r }(), env: changedEnv)
        XCTAssertEqual(statuses(skipped)["C"], .skipped)
        XCTAssertFalse(skipped.removableVariables.contains("APP_C"), "a skipped variable is not safe to remove")

        let oldDEK: Int64 = try f.connection.query("SELECT dek_id FROM project_secrets WHERE name = 'C'")[0].decode(0)
        let updated = try run(f, keks, { var r = request; r.onConflict = .update; return r }(), env: changedEnv)
        XCTAssertEqual(statuses(updated)["C"], .updated)
        XCTAssertEqual(try store.get(project: project, name: "C").testCopy, Array("THREE".utf8))
        XCTAssertEqual(try f.count("SELECT version FROM project_secrets WHERE name = 'C'"), 2)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE id = $1", [oldDEK]), 0)

        // The stub gets its value from a later import.
        let filled = try run(f, keks, EnvImportRequest(project: project, envFile: try temporaryFile("GHOST=boo\n")))
        XCTAssertEqual(statuses(filled)["GHOST"], .created)
        XCTAssertEqual(try f.count("SELECT version FROM project_secrets WHERE name = 'GHOST'"), 1)

        XCTAssertEqual(try f.count("SELECT count(*) FROM env_imports WHERE project_id = $1", [project]), 5)
        XCTAssertEqual(try f.count("SELECT count(*) FROM audit_log WHERE action = 'env.imported'"), 5)
        let names: String = try f.connection.query("SELECT names::text FROM env_imports ORDER BY id LIMIT 1")[0].decode(0)
        XCTAssertTrue(names.contains("\"GHOST\""), names)
        XCTAssertNil(try AuditLog.verify(f.connection).firstBrokenRow)
    }

    func testImportInvalidEntriesRefuseEverythingAndAreAllListed() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        try SecretStore(connection: f.connection, keks: keks, actor: "tester").put(project: project, name: "KEEP", value: SecretBytes("k"))
        var bytes = Array("GOOD=1\nno equals here\n1BAD=x\nNUL=a".utf8) + [0] + Array("b\nUTF=".utf8) + [0xC3, 0x28]
        bytes += Array("\nBIG=".utf8) + [UInt8](repeating: 65, count: SecretName.maxValueBytes + 1) + Array("\nGOOD=again\n".utf8)
        let file = try temporaryFile(bytes)
        let before = try ["project_secrets", "data_keys", "audit_log", "env_imports", "keks"].map { try f.digest($0) }
        let report = refusal { try run(f, keks, EnvImportRequest(project: project, envFile: file, prefix: "X_"),
                                       env: ["X_OK": "fine", "X_A-B": "bad"]) }
        XCTAssertEqual(report?.outcome, .refusedInvalid)
        let lines = report?.entries.compactMap(\.line)
        XCTAssertEqual(lines, [2, 3, 4, 5, 6, 7])
        // An invalid name is never echoed (it may be part of a value): only its length and the bad position.
        XCTAssertEqual(report?.entries.filter { $0.origin == "env" }.map(\.name), [""])
        XCTAssertEqual(report?.entries.filter { $0.origin == "env" }.first?.reason,
                       "invalid name of 5 bytes: byte 4 is not A-Z, a-z, 0-9 or _")
        XCTAssertEqual(try ["project_secrets", "data_keys", "audit_log", "env_imports", "keks"].map { try f.digest($0) }, before)
    }

    func testPrefixImportRefusesKeksAndTheDatabasesOwnConfiguration() throws {
        let (f, keks) = try KeyFixture.withActiveKEK()
        let env = ["KEK_ROOT_KEYS": "root:x", "PGPASSWORD": "pw", "DATABASE_URL": "postgres://u:pw@h/db", "KEEP_ME": "ok"]
        for prefix in ["K", "P", "D"] {
            let report = refusal { try run(f, keks, EnvImportRequest(project: project, prefix: prefix), env: env) }
            XCTAssertEqual(report?.outcome, .refusedInvalid, prefix)
            XCTAssertTrue(report?.entries.filter { $0.status == .invalid }.allSatisfy { $0.reason?.contains("never imported") == true } ?? false)
        }
        XCTAssertEqual(try f.count("SELECT count(*) FROM project_secrets WHERE project_id = $1", [project]), 0)
    }

    func testImportRequestIsCodableJobArguments() throws {
        let json = #"{"project": "6f1c4c52-43a4-4f53-a5e8-2d7b8f0b9a11", "env_file": "/tmp/x.env", "on_conflict": "update"}"#
        let request = try JSONDecoder().decode(EnvImportRequest.self, from: Data(json.utf8))
        XCTAssertEqual(request.envFile, "/tmp/x.env")
        XCTAssertEqual(request.onConflict, .update)
        XCTAssertFalse(request.dryRun)
        XCTAssertNil(request.prefix)
        let again = try JSONDecoder().decode(EnvImportRequest.self, from: try JSONEncoder().encode(request))
        XCTAssertEqual(again, request)
        XCTAssertTrue(String(decoding: try JSONEncoder().encode(request), as: UTF8.self).contains("6f1c4c52-43a4"))
        XCTAssertNotNil(EnvImportRequest(project: project).problem(), "no source is a bad request")
        XCTAssertNotNil(EnvImportRequest(project: project, envFile: "x", stripPrefix: true).problem())
    }
}
