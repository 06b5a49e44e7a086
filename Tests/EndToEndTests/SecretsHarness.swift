import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// A migrated database with an active KEK, and `kek` runs against it with a fixed test root key.
struct SecretsHarness {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    let url: String
    let connection: PostgresConnection
    let project = UUID().uuidString.lowercased()
    /// Every stdout and stderr of the run except `secrets get`'s stdout, for the canary check.
    private let transcript = Transcript()

    init() throws {
        url = try TestDatabase.fresh()
        connection = try PostgresConnection(url)
        let migrated = try KekBinary(databaseURL: url, as: .owner).run(["migrate"])
        XCTAssertEqual(migrated.status, 0, migrated.stderr)
        // No `kek keys generate` on this branch yet: make the active KEK through the library.
        let rootKeys = RootKeys(keyring: try Keyring.parse(TestRootKey.line))
        try KEKStore(connection: connection, actor: "e2e-setup").generate(rootKeys: rootKeys, activate: true)
    }

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    func kek(_ extra: [String: String] = [:]) -> KekBinary {
        KekBinary(databaseURL: url, extra: ["KEK_ROOT_KEYS": TestRootKey.line, "USER": "e2e-operator"].merging(extra) { $1 })
    }

    /// Runs `kek` and records its output for the canary check (`secrets get`'s stdout excluded).
    @discardableResult
    func run(_ arguments: [String], env: [String: String] = [:], stdin: String? = nil) throws -> KekBinary.Outcome {
        let outcome = try kek(env).run(arguments, stdin: stdin)
        let isGet = arguments.starts(with: ["secrets", "get"])
        transcript.append((isGet ? "" : outcome.stdout) + outcome.stderr)
        return outcome
    }

    /// Adds the output of a run made another way (another environment) to the transcript.
    func record(_ outcome: KekBinary.Outcome) { transcript.append(outcome.stdout + outcome.stderr) }

    var outputs: String { transcript.text }

    func digest(_ table: String) throws -> String {
        try connection.query(
            "SELECT coalesce(md5(string_agg(row_to_json(t)::text, E'\\n' ORDER BY row_to_json(t)::text)), '') FROM \(table) t")[0]
            .decode(0)
    }

    /// Every table that could hold a leaked value, as JSON text (bytea as hex).
    func dump() throws -> String {
        var text = ""
        for table in ["audit_log", "env_imports", "project_secrets", "data_keys", "keks", "signature_keys", "jobs", "workers"] {
            let exists: Bool = try connection.query("SELECT to_regclass($1) IS NOT NULL", [table])[0].decode(0)
            guard exists else { continue }
            text += try connection.query(
                "SELECT coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') FROM \(table) t")[0].decode(0, as: String.self)
        }
        return text
    }

    /// Fails if `canary` appears in any recorded output or, as text or hex, in any table.
    func assertNoLeak(of canary: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(outputs.contains(canary), "canary printed by a command other than 'secrets get'", file: file, line: line)
        let dump = try dump()
        XCTAssertFalse(dump.contains(canary), "canary stored in clear", file: file, line: line)
        XCTAssertFalse(dump.contains(Hex.encode(Array(canary.utf8))), "canary stored as hex", file: file, line: line)
    }
}

final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ part: String) { lock.lock(); parts.append(part); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return parts.joined(separator: "\n") }
}

/// The JSON report of `kek import-env --json`, the parts the tests read.
struct ImportJSON: Decodable {
    struct Entry: Decodable {
        var name: String
        var status: String
        var line: Int?
    }
    var outcome: String
    var entries: [Entry]
    var counts: [String: Int]

    static func decode(_ text: String) throws -> ImportJSON { try JSONDecoder().decode(ImportJSON.self, from: Data(text.utf8)) }

    func statuses() -> [String: String] { Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.status) }) }
}
