import Foundation
import KeyManagement
import XCTest

final class EnvImportEndToEndTests: XCTestCase {
    static let canary = "CANARY-7f3e9b1c-do-not-print"

    /// What each entry of Fixtures/quoting.env must decrypt to, byte for byte.
    static let expected: [String: String] = [
        "PLAIN": "plain-value",
        "SPACED": "spaced value",
        "EXPORTED": "exported-value",
        "TRAILING_COMMENT": "before-comment",
        "HASH_IN_WORD": "pa#ss",
        "EMPTY": "",
        "SINGLE": #"literal \n $HOME "q" # kept"#,
        "DOUBLE": "tab\there\nnewline \"quoted\" back\\slash",
        "MULTILINE": "-----BEGIN TEST-----\nline two\n-----END TEST-----",
        "QUOTED_COMMENT": "value",
        "EQUALS": "a=b=c",
        "CANARY_TOKEN": canary,
        "URL": "postgres://user:pa55@db.internal:5432/app?sslmode=require",
        "FROM_ENV": "from-the-environment",
    ]

    func testImportFileEnvironmentAndManifestThenRerunThenConflict() throws {
        let h = try SecretsHarness()
        let env = ["E2E_APP_FROM_ENV": "from-the-environment", "E2E_OTHER": "not imported"]
        let arguments = ["import-env", "--project", h.project, "--env-file", SecretsHarness.fixture("quoting.env"),
                         "--prefix", "E2E_APP_", "--strip-prefix", "--manifest", SecretsHarness.fixture("manifest.json")]

        let dry = try h.run(arguments + ["--dry-run"], env: env)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("dry run, nothing was written"), dry.stdout)
        XCTAssertEqual(try h.digest("project_secrets"), "")

        let first = try h.run(arguments, env: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        for name in Self.expected.keys {
            XCTAssertTrue(first.stdout.contains("created    \(name)"), "\(name) in\n\(first.stdout)")
        }
        XCTAssertTrue(first.stdout.contains("missing    SENTRY_DSN"), first.stdout)
        XCTAssertTrue(first.stdout.contains("E2E_APP_FROM_ENV"), "the variable to remove is named")
        XCTAssertFalse(first.stdout.contains("E2E_OTHER"))

        for (name, value) in Self.expected {
            let got = try h.run(["secrets", "get", "--project", h.project, name])
            XCTAssertEqual(got.status, 0, got.stderr)
            XCTAssertEqual(got.stdout, value, name)
        }
        let stub = try h.run(["secrets", "get", "--project", h.project, "SENTRY_DSN"])
        XCTAssertEqual(stub.status, 1)
        XCTAssertTrue(stub.stderr.contains("stub"), stub.stderr)

        let second = try h.run(arguments + ["--json"], env: env)
        XCTAssertEqual(second.status, 0, second.stderr)
        let rerun = try ImportJSON.decode(second.stdout)
        XCTAssertEqual(rerun.counts["unchanged"], Self.expected.count)
        XCTAssertEqual(rerun.counts["created"], 0)
        XCTAssertEqual(rerun.counts["missing"], 1)

        let changed = env.merging(["E2E_APP_FROM_ENV": "changed"]) { $1 }
        let before = try h.digest("project_secrets")
        let refused = try h.run(arguments, env: changed)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("FROM_ENV"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--on-conflict"), refused.stderr)
        XCTAssertEqual(try h.digest("project_secrets"), before)

        let update = try h.run(arguments + ["--on-conflict=update", "--json"], env: changed)
        XCTAssertEqual(update.status, 0, update.stderr)
        XCTAssertEqual(try ImportJSON.decode(update.stdout).statuses()["FROM_ENV"], "updated")
        XCTAssertEqual(try h.run(["secrets", "get", "--project", h.project, "FROM_ENV"]).stdout, "changed")

        let list = try h.run(["secrets", "list", "--project", h.project])
        XCTAssertTrue(list.stdout.contains("SENTRY_DSN"), list.stdout)
        XCTAssertEqual(try h.connection.query("SELECT count(*) FROM env_imports")[0].decode(0, as: Int.self), 3)
        let actors: [String] = try h.connection.query("SELECT DISTINCT actor FROM env_imports").map { try $0.decode(0) }
        XCTAssertEqual(actors, ["e2e-operator"])
        try h.assertNoLeak(of: Self.canary)
        let removedStub = try h.run(["secrets", "rm", "--project", h.project, "SENTRY_DSN"])
        XCTAssertTrue(removedStub.stdout.contains("a stub without a value"), removedStub.stdout + removedStub.stderr)
    }

    /// `kek jobs enqueue import_env` refuses at the CLI with the worker's own message, and
    /// adds no job.
    func testEnqueueOfTheRetiredImportEnvKindIsRefusedWithTheWorkersMessage() throws {
        let h = try SecretsHarness()
        let before = try h.digest("jobs")
        let refusal = try XCTUnwrap(RetiredJobKind.refusal("import_env"))
        let enqueue = try h.run(["jobs", "enqueue", "import_env", "--args", #"{"env_file": "/etc/hostname"}"#])
        XCTAssertEqual(enqueue.status, 1, enqueue.stdout)
        XCTAssertTrue(enqueue.stderr.contains(refusal), enqueue.stderr)
        XCTAssertEqual(try h.digest("jobs"), before, "no job was added")
        XCTAssertNil(RetiredJobKind.refusal("noop"))
    }

    func testBadFileIsRefusedWithEveryLineAndNothingChanges() throws {
        let h = try SecretsHarness()
        let good = try h.run(["import-env", "--project", h.project, "--env-file", SecretsHarness.fixture("quoting.env")])
        XCTAssertEqual(good.status, 0, good.stderr)
        let tables = ["project_secrets", "data_keys", "keks", "audit_log", "env_imports"]
        let before = try tables.map(h.digest)

        let bad = try h.run(["import-env", "--project", h.project, "--env-file", SecretsHarness.fixture("bad.env"),
                             "--on-conflict=update"])
        XCTAssertEqual(bad.status, 1)
        for line in 2...6 { XCTAssertTrue(bad.stderr.contains("line \(line)"), "line \(line) in\n\(bad.stderr)") }
        XCTAssertFalse(bad.stderr.contains("line 1 "), "the good line is not blamed")
        XCTAssertTrue(bad.stderr.contains("NUL"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("nothing was written"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("never closed\n") || bad.stderr.contains("bad name"), "no value text echoed")
        XCTAssertEqual(try tables.map(h.digest), before, "every table byte-for-byte unchanged")

        let json = try h.run(["import-env", "--project", h.project, "--env-file", SecretsHarness.fixture("bad.env"), "--json"])
        XCTAssertEqual(json.status, 1)
        let report = try ImportJSON.decode(json.stdout)
        XCTAssertEqual(report.outcome, "refused_invalid")
        XCTAssertEqual(report.entries.compactMap(\.line), [2, 3, 4, 5, 6])
        XCTAssertEqual(try tables.map(h.digest), before)
        try h.assertNoLeak(of: Self.canary)
    }

    func testTenThousandVariables() throws {
        let h = try SecretsHarness()
        var text = "# generated: 10,000 variables\n"
        for index in 0..<10_000 { text += "VAR_\(index)=value-\(index)-\(UUID().uuidString)\n" }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kek-10k-\(UUID()).env").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        var start = Date()
        let first = try h.run(["import-env", "--project", h.project, "--env-file", path, "--json"])
        let importSeconds = Date().timeIntervalSince(start)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(try ImportJSON.decode(first.stdout).counts["created"], 10_000)

        start = Date()
        let second = try h.run(["import-env", "--project", h.project, "--env-file", path, "--json"])
        let rerunSeconds = Date().timeIntervalSince(start)
        XCTAssertEqual(try ImportJSON.decode(second.stdout).counts["unchanged"], 10_000)
        print(String(format: "import-env 10,000 variables: first import %.2f s, re-run (all unchanged) %.2f s (whole kek process)",
                     importSeconds, rerunSeconds))
        XCTAssertLessThan(importSeconds, 30)
        XCTAssertLessThan(rerunSeconds, 30)
        XCTAssertEqual(try h.connection.query("SELECT count(*) FROM data_keys")[0].decode(0, as: Int.self), 10_000)
    }
}
