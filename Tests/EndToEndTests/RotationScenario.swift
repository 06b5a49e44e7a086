import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// A store seeded with synthetic secrets under one active KEK, and the `kek` binary pointed
/// at it with the same root key: the setting of every rotation test.
struct RotationScenario: DatabaseFixture {
    private(set) var url: String
    private(set) var connection: PostgresConnection
    let rootKeys: RootKeys
    let project = UUID()
    let firstKEK: Int32
    /// The binary as workers run it; `through(_:)` points it at another URL (a pooler, several hosts).
    private(set) var kek: KekBinary

    /// `url`: a migrated database (default: a fresh one on the shared cluster).
    init(secrets: Int, url: String? = nil) throws {
        self.url = try url ?? TestDatabase.migrated()
        connection = try PostgresConnection(self.url)
        rootKeys = RootKeys(keyring: try Keyring.parse(TestRootKey.line))
        firstKEK = try KEKStore(connection: connection, actor: "test").generate(rootKeys: rootKeys, activate: true)
        try SyntheticSecrets.seed(connection, keks: KEKCiphers(connection: connection, rootKeys: rootKeys), project: project, count: secrets)
        kek = KekBinary(databaseURL: self.url, extra: ["KEK_ROOT_KEYS": TestRootKey.line])
    }

    /// The same scenario with the binary reaching the database through `databaseURL`.
    func through(_ databaseURL: String) -> RotationScenario {
        var copy = self
        copy.kek = KekBinary(databaseURL: databaseURL, extra: ["KEK_ROOT_KEYS": TestRootKey.line])
        return copy
    }

    /// The same scenario reached through another URL by the test and the binary alike
    /// (a multi-host string that follows a failover).
    func reconnected(to databaseURL: String) throws -> RotationScenario {
        var copy = through(databaseURL)
        copy.url = databaseURL
        copy.connection = try PostgresConnection(databaseURL)
        return copy
    }

    /// Seconds from enqueue to first claim, and from enqueue to the end, of job `id`.
    func timings(ofJob id: Int64) throws -> (pickup: Double, total: Double) {
        let row = try connection.query("""
            SELECT extract(epoch FROM started_at - created_at)::float8, extract(epoch FROM finished_at - created_at)::float8
              FROM jobs WHERE id = $1
            """, [id])[0]
        return (try row.decode(0), try row.decode(1))
    }

    /// A worker with the scenario's root key, or with `rootKeys` (nil: no KEK_ROOT_KEYS at all).
    func worker(_ name: String, concurrency: Int = 1, rootKeys: String? = TestRootKey.line, lease: String = "3s",
                extra: [String] = []) throws -> (process: Process, log: URL) {
        var binary = kek
        binary.environment["KEK_ROOT_KEYS"] = rootKeys
        return try binary.startLogged(["worker", "--concurrency", String(concurrency), "--lease", lease, "--poll-interval", "1s",
                                       "--no-schedules", "--worker-id", name] + extra, name: name)
    }

    func state(ofJob id: Int64) throws -> String {
        try connection.query("SELECT state FROM jobs WHERE id = $1", [id])[0].decode(0)
    }

    func enqueueRotation(_ extra: [String] = []) throws -> Int64 {
        let outcome = try kek.run(["rotate"] + extra)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        guard let id = outcome.stdout.split(separator: " ").last.flatMap({ Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw CommandFailure(outcome.stdout)
        }
        return id
    }

    /// Waits until the job leaves queued/running/paused, or the timeout; returns its state.
    func waitForEnd(of job: Int64, timeout: Double, while body: () throws -> Void = {}) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let state = try state(ofJob: job)
            if ["completed", "failed", "cancelled"].contains(state) { return state }
            try body()
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try state(ofJob: job)
    }

    /// The outcome every successful rotation must have: every DEK under the new KEK, every
    /// value as seeded, old KEK retired, `kek verify` and the audit chain passing.
    func assertRotated(from old: Int32, secrets: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let active: Int32 = try connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0)
        XCTAssertNotEqual(active, old, file: file, line: line)
        XCTAssertEqual(try count("SELECT count(*) FROM data_keys WHERE kek_id <> $1", [active]), 0, file: file, line: line)
        XCTAssertEqual(try connection.query("SELECT state FROM keks WHERE id = $1", [old])[0].decode(0, as: String.self), "retired",
                       file: file, line: line)
        let values = try SyntheticSecrets.countWrongValues(connection, keks: KEKCiphers(connection: connection, rootKeys: rootKeys),
                                                           project: project)
        XCTAssertEqual(values.checked, secrets, file: file, line: line)
        XCTAssertEqual(values.wrong, 0, file: file, line: line)
        let verify = try kek.run(["verify"])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr, file: file, line: line)
        let audit = try kek.run(["audit", "verify"])
        XCTAssertEqual(audit.status, 0, audit.stdout + audit.stderr, file: file, line: line)
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
