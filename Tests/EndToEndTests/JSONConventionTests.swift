import Foundation
import HTTPTestSupport
import TestSupport
import XCTest

/// The one JSON convention (README "JSON output"), checked on everything a program reads:
/// every `--json` command and every HTTP JSON endpoint, on a small seeded store. UUIDs are
/// lower case, timestamps are RFC 3339 with `Z`, and no string value is a JSON object or
/// array written as text.
final class JSONConventionTests: XCTestCase {
    func testEveryJSONCommandAndEndpointFollowsTheConvention() throws {
        let h = try SecretsHarness()
        XCTAssertEqual(try h.run(["secrets", "put", "--project", h.project, "API_TOKEN"], stdin: "s3cret-value").status, 0)
        XCTAssertEqual(try h.run(["signing-keys", "generate", "--project", h.project]).status, 0)
        let imported = try h.run(["import-env", "--project", h.project, "--env-file", SecretsHarness.fixture("quoting.env"), "--json"])
        let enqueued = try h.run(["jobs", "enqueue", "noop", "--args", "{\"steps\": 1}", "--json"])
        XCTAssertEqual(enqueued.status, 0, enqueued.stderr)
        let jobID = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(enqueued.stdout.utf8)) as? [String: Any])?["id"]
            .map { "\($0)" } ?? Self.firstNumber(enqueued.stdout), enqueued.stdout)

        var documents: [(String, String)] = [("import-env --json", imported.stdout), ("jobs enqueue --json", enqueued.stdout)]
        let commands: [[String]] = [
            ["secrets", "list", "--project", h.project, "--json"], ["signing-keys", "list", "--project", h.project, "--json"],
            ["audit", "list", "--json"], ["audit", "verify", "--json"], ["jobs", "list", "--json"],
            ["jobs", "show", jobID, "--json"], ["keys", "list", "--json"], ["verify", "--json"],
            ["rotate", "--plan", "--json"], ["status", "--json"],
            ["jobs", "pause", jobID, "--json"], ["jobs", "resume", jobID, "--json"], ["rotate", "--json"],
            ["keys", "generate", "--json"], ["keys", "wrap-limit", "--json"], ["jobs", "cancel", jobID, "--json"],
            ["jobs", "retry", jobID, "--json"], ["jobs", "enqueue", "noop", "--count", "2", "--json"], ["version", "--json"],
            ["projects", "list", "--json"], ["rotate-root", "--json"],
        ]
        for command in commands {
            let outcome = try h.run(command)
            XCTAssertEqual(outcome.status, 0, "\(command): \(outcome.stderr)")
            documents.append((command.joined(separator: " "), outcome.stdout))
        }
        let migrated = try KekBinary(databaseURL: h.url, as: .owner).run(["migrate", "--json"])
        documents.append(("migrate --json", migrated.stdout))

        let kek = h.kek()
        let (serve, log) = try kek.startLogged(["serve", "--listen", "127.0.0.1:0", "--no-schedules"], name: "serve-json")
        defer {
            kek.send(SIGTERM, to: serve)
            XCTAssertTrue(kek.waitForExit(serve, timeout: 10))
        }
        let (base, _) = try StatusServerProcess.waitForAddress(log: log, process: serve)
        for path in ["/status", "/api/v1/kek/status", "/openapi.json"] {
            documents.append(("GET \(path)", try Curl.request(base + path).text))
        }

        var violations: [String] = []
        for (name, text) in documents {
            guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
                violations.append("\(name): not JSON: \(text.prefix(200))")
                continue
            }
            violations += Self.violations(in: value, at: name)
        }
        XCTAssertEqual(violations, [])
        // The keys scripts read, exactly (the CLI's own documents, printed through JSONCodec).
        func keys(_ name: String) throws -> [String] {
            let text = try XCTUnwrap(documents.first { $0.0 == name }?.1, name)
            let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
            let object = try XCTUnwrap((value as? [String: Any]) ?? (value as? [[String: Any]])?.first, "\(name): \(text)")
            return object.keys.sorted()
        }
        XCTAssertEqual(try keys("jobs show \(jobID) --json"), [
            "args", "attempt", "attempt_errors", "attempted_at", "checkpoint", "checkpointed_at", "created_at", "desired_state",
            "finished_at", "id", "kind", "last_error", "lease_expires_at", "lease_owner", "max_attempts", "max_run_seconds",
            "parent_id", "priority", "progress", "result", "run_at", "started_at", "state", "unique_key", "updated_at"])
        XCTAssertEqual(try keys("jobs cancel \(jobID) --json"), ["changed", "id", "state"])
        XCTAssertEqual(try keys("jobs enqueue --json"), ["id", "inserted"])
        XCTAssertEqual(try keys("jobs enqueue noop --count 2 --json"), ["enqueued"])
        XCTAssertEqual(try keys("keys wrap-limit --json"), ["wrap_limit"])
        XCTAssertEqual(try keys("keys generate --json"), ["kek_id", "root_key_id", "state"])
        XCTAssertEqual(try keys("rotate --json"), ["enqueued", "job_id", "kind"])
        XCTAssertEqual(try keys("audit verify --json"), ["head_hash", "intact", "rows"])
        XCTAssertEqual(try keys("migrate --json"), ["already_applied", "applied", "schema_version"])
        XCTAssertEqual(try keys("version --json"), ["migrations", "schema_version", "version"])
        XCTAssertEqual(try keys("projects list --json"), ["env_imports", "last_import_at", "project_id", "secrets", "signing_keys"])
        XCTAssertEqual(try keys("rotate-root --json"),
                       ["active_root_key_id", "rewrapped_kek_ids", "skipped_retired_kek_ids", "unused_root_key_ids"])
        XCTAssertEqual(try keys("keys list --json"), ["activated_at", "created_at", "dek_count", "id", "root_key_id", "state", "wrap_count"])

        // A per-KEK count is an array of objects, not the flat [id, count, id, count] of a numeric-keyed dictionary.
        let verify = try XCTUnwrap(documents.first { $0.0 == "verify --json" }?.1)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(verify.utf8)) as? [String: Any], verify)
        let counts = try XCTUnwrap(report["deks_per_kek"] as? [[String: Any]], verify)
        XCTAssertEqual(counts.count, 1, verify)
        XCTAssertNotNil(counts.first?["kek_id"] as? Int, verify)
        XCTAssertEqual(counts.first?["deks"] as? Int, report["deks_checked"] as? Int, verify)
    }

    func testTheCheckSeesEachKindOfViolation() {
        let bad: [String: Any] = ["id": "0F8FAD5B-D9CB-469F-A165-70867728950E", "at": "2026-01-01 02:03:04",
                                  "details": "{\"a\": 1}", "ok": ["0f8fad5b-d9cb-469f-a165-70867728950e", "2026-01-01T02:03:04.5Z"]]
        XCTAssertEqual(Self.violations(in: bad, at: "doc").count, 3, "\(Self.violations(in: bad, at: "doc"))")
    }

    static let uuid = try! NSRegularExpression(pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
    static let timeLike = try! NSRegularExpression(pattern: "^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}")
    static let rfc3339 = try! NSRegularExpression(pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$")

    static func violations(in value: Any, at path: String) -> [String] {
        switch value {
        case let object as [String: Any]:
            return object.keys.sorted().flatMap { violations(in: object[$0]!, at: "\(path).\($0)") }
        case let array as [Any]:
            return array.enumerated().flatMap { violations(in: $1, at: "\(path)[\($0)]") }
        case let text as String:
            let range = NSRange(text.startIndex..., in: text)
            if uuid.firstMatch(in: text, range: range) != nil, text != text.lowercased() {
                return ["\(path): UUID not lower case: \(text)"]
            }
            if timeLike.firstMatch(in: text, range: range) != nil, rfc3339.firstMatch(in: text, range: range) == nil {
                return ["\(path): timestamp not RFC 3339 with Z: \(text)"]
            }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("{") || trimmed.hasPrefix("["),
               let inner = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)), inner is [String: Any] || inner is [Any] {
                return ["\(path): JSON written as a string: \(text.prefix(80))"]
            }
            return []
        default:
            return []
        }
    }

    static func firstNumber(_ text: String) -> String? {
        text.split(whereSeparator: { !$0.isNumber }).first.map(String.init)
    }
}
