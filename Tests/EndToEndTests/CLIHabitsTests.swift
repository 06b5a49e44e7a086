import Foundation
import PostgresClient
import TestSupport
import XCTest

/// What operators used to `vault` and `kubectl` expect of a CLI, run against the built binary.
final class CLIHabitsTests: XCTestCase {
    func testShortHelpHelpCommandAndVersion() throws {
        let kek = KekBinary(databaseURL: nil)
        let short = try kek.run(["-h"])
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertTrue(short.stdout.hasPrefix("usage: kek <command>"), short.stdout)
        let keys = try kek.run(["help", "keys"])
        XCTAssertEqual(keys.status, 0, keys.stderr)
        XCTAssertTrue(keys.stdout.hasPrefix("usage: kek keys <command>"), keys.stdout)
        XCTAssertTrue(keys.stdout.contains("generate"), keys.stdout)
        let nested = try kek.run(["help", "keys", "generate"])
        XCTAssertTrue(nested.stdout.hasPrefix("usage: kek keys generate"), nested.stdout)
        XCTAssertEqual(try kek.run(["rotate", "-h"]).stdout, try kek.run(["rotate", "--help"]).stdout)
        XCTAssertEqual(try kek.run(["help", "frobnicate"]).status, 2)
        let version = try kek.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("kek 0."), version.stdout)
        let worker = try kek.run(["worker", "--help"])
        XCTAssertTrue(worker.stdout.contains("[env KEK_CONCURRENCY]"), worker.stdout)
        XCTAssertTrue(worker.stdout.contains("SIGHUP is ignored"), worker.stdout)
    }

    /// Options are parsed into typed values before a command runs: text that is not one is a
    /// usage error naming the option, from the command line or its KEK_* variable alike, and
    /// `--help` shows the typed defaults as they are written on the command line.
    func testTypedOptionsRefuseTextThatIsNotTheirTypeFromArgumentsOrEnvironment() throws {
        let kek = KekBinary(databaseURL: nil)
        let refusals: [([String], [String: String], String)] = [
            (["worker", "--concurrency", "0"], [:], "--concurrency"),
            (["worker"], ["KEK_CONCURRENCY": "many"], "--concurrency"),
            (["worker"], ["KEK_LEASE": "0s"], "--lease"),
            (["worker"], ["KEK_LOG_FORMAT": "xml"], "plain or json"),
            (["reencrypt", "--kek", "1,x"], [:], "--kek"),
            (["jobs", "list", "--state", "bogus"], [:], "--state"),
            (["jobs", "show", "-3"], [:], "<id>"),
            (["keys", "wrap-limit", "0"], [:], "<n>"),
            (["import-env", "--project", "not-a-uuid"], [:], "--project"),
            (["import-env", "--project", UUID().uuidString, "--on-conflict", "merge"], [:], "refuse, update or skip"),
            (["secrets", "list"], [:], "missing required option '--project'"),
        ]
        for (words, environment, named) in refusals {
            let outcome = try KekBinary(databaseURL: nil, extra: environment).run(words)
            XCTAssertEqual(outcome.status, 2, "\(words) \(environment): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(named), "\(words) \(environment): \(outcome.stderr)")
        }
        let reencrypt = try kek.run(["reencrypt", "--help"]).stdout
        XCTAssertTrue(reencrypt.contains("DEKs per batch transaction. (default: 200)"), reencrypt)
        XCTAssertTrue(reencrypt.contains("(default: 120s)"), reencrypt)
        let worker = try kek.run(["worker", "--help"]).stdout
        XCTAssertTrue(worker.contains("Delete finished jobs older than this. (default: 14d) [env KEK_RETENTION]"), worker)
    }

    func testRotateWaitTimeoutWithoutAWorkerGivesUp() throws {
        let kek = KekBinary(databaseURL: try TestDatabase.migrated(), extra: ["KEK_ROOT_KEYS": TestRootKey.line])
        XCTAssertEqual(try kek.run(["keys", "generate", "--activate"]).status, 0)
        let started = Date()
        let outcome = try kek.run(["rotate", "--wait", "--timeout", "5s"])
        let elapsed = Date().timeIntervalSince(started)
        print("rotate --wait --timeout 5s with no worker: exit \(outcome.status) after \(String(format: "%.2f", elapsed)) s")
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("gave up waiting after 5s"), outcome.stderr)
        // At least the timeout; the upper bound leaves room for a loaded 2-core machine.
        XCTAssertGreaterThanOrEqual(elapsed, 5)
        XCTAssertLessThan(elapsed, 20)
        XCTAssertEqual(try kek.run(["rotate", "--timeout", "5s"]).status, 2, "--timeout without --wait is a usage error")
    }

    func testCompoundDurationsAndRefusedOnes() throws {
        let kek = KekBinary(databaseURL: try TestDatabase.migrated())
        let watched = try kek.run(["status", "--watch", "--interval", "250ms", "--count", "2"])
        XCTAssertEqual(watched.status, 0, watched.stderr)
        for bad in ["1m30", "inf", "nans", "1e3s", "5x", ""] {
            let outcome = try kek.run(["status", "--watch", "--interval", bad, "--count", "1"])
            XCTAssertEqual(outcome.status, 2, "'\(bad)' should be refused: \(outcome.stderr)")
        }
        let compound = try kek.run(["keys", "destroy", "--after", "1h30m", "1"])
        XCTAssertFalse(compound.stderr.contains("expects a duration"), compound.stderr)
    }

    func testJSONResultsFileVariantsAndPGVariables() throws {
        let url = try TestDatabase.fresh()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kek-env-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let urlFile = folder.appendingPathComponent("database-url")
        try (url + "\n").write(to: urlFile, atomically: true, encoding: .utf8)
        let fromFile = KekBinary(databaseURL: nil, extra: ["DATABASE_URL_FILE": urlFile.path, "KEK_ROOT_KEYS": TestRootKey.line])
        XCTAssertEqual(try fromFile.run(["migrate"]).status, 0)
        let generated = try fromFile.run(["keys", "generate", "--activate", "--json"])
        let kek = try JSONSerialization.jsonObject(with: Data(generated.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(kek?["state"] as? String, "active", generated.stdout + generated.stderr)
        XCTAssertEqual(kek?["root_key_id"] as? String, "r1")
        let audit = try fromFile.run(["audit", "verify", "--json"])
        XCTAssertEqual(audit.status, 0, audit.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])?["intact"] as? Bool, true)
        let both = KekBinary(databaseURL: url, extra: ["DATABASE_URL_FILE": urlFile.path])
        XCTAssertEqual(try both.run(["keys", "list"]).status, 2, "DATABASE_URL and DATABASE_URL_FILE together are ambiguous")

        // libpq's own variables, with no DATABASE_URL at all.
        var pg: [String: String] = [:]
        for pair in url.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            pg[["host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE"][parts[0]] ?? "?"] = parts[1]
        }
        let projects = try KekBinary(databaseURL: nil, extra: pg).run(["projects", "list", "--json"])
        XCTAssertEqual(projects.status, 0, projects.stderr)
        XCTAssertEqual(projects.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[\n\n]")
    }
}
