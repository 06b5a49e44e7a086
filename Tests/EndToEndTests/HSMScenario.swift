import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// A store seeded under an env root key, a private SoftHSM2 token, and the `kek` binary
/// whose keyring the test changes between steps (as an operator edits `KEK_ROOT_KEYS`).
final class HSMScenario: DatabaseFixture {
    static let envRoot1 = "r1:" + Data(repeating: 41, count: 32).base64EncodedString()
    let token: SoftHSMToken
    let url: String
    let connection: PostgresConnection
    let project = UUID()
    let secrets: Int
    private(set) var keyring: String = HSMScenario.envRoot1

    /// `secrets` values, each under its own DEK, plus `extraDEKs` DEKs that protect no value yet
    /// (cheaper to seed and to verify; a rotation moves both kinds alike).
    init(secrets: Int, extraDEKs: Int = 0) throws {
        token = try SoftHSMToken()
        url = try TestDatabase.migrated()
        connection = try PostgresConnection(url)
        self.secrets = secrets
        let rootKeys = RootKeys(keyring: try Keyring.parse(Self.envRoot1))
        _ = try KEKStore(connection: connection, actor: "test").generate(rootKeys: rootKeys, activate: true)
        let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
        try SyntheticSecrets.seed(connection, keks: keks, project: project, count: secrets)
        if extraDEKs > 0 { try SyntheticSecrets.seedDataKeys(connection, keks: keks, count: extraDEKs) }
    }

    deinit { token.remove() }

    /// The binary with the current keyring and the token's configuration.
    var kek: KekBinary { kek(keyring: keyring) }

    func kek(keyring: String, extra: [String: String] = [:]) -> KekBinary {
        KekBinary(databaseURL: url, extra: token.environment.merging(["KEK_ROOT_KEYS": keyring]) { $1 }.merging(extra) { $1 })
    }

    func setKeyring(_ text: String) { keyring = text }

    /// Runs `kek` and fails the test (with its output) unless it exits 0.
    @discardableResult
    func succeed(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> KekBinary.Outcome {
        let outcome = try kek.run(arguments)
        XCTAssertEqual(outcome.status, 0, "kek \(arguments.joined(separator: " ")): \(outcome.stdout)\(outcome.stderr)", file: file, line: line)
        return outcome
    }

    /// `kek keygen --pkcs11` for object `label`; returns the printed keyring entry.
    func keygenInToken(_ label: String) throws -> String {
        let outcome = try succeed(["keygen", "--pkcs11", token.uri(object: label)])
        return outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `kek rotate-root` under `keyring` (new active first), then drops the other entries.
    func moveRoot(to keyring: String, keeping old: String) throws {
        setKeyring("\(keyring),\(old)")
        try succeed(["rotate-root"])
        setKeyring(keyring)
        let id = String(keyring.prefix { $0 != ":" })
        XCTAssertEqual(try count("SELECT count(*) FROM keks WHERE wrapped_key IS NOT NULL AND root_key_id <> $1", [id]), 0)
    }

    /// A full KEK rotation by worker processes; returns the seconds the rotation job measured.
    /// `processes` worker processes of `threads` worker loops each (every loop opens its own session).
    /// Each rotation starts from a vacuumed table: otherwise the first one pays for setting hint
    /// bits on freshly seeded rows and each later one for the dead rows of the one before,
    /// which would weigh more than what the root key kind changes.
    func rotate(parts: Int = 8, batchSize: Int = 2000, processes: Int = 2, threads: Int = 1) throws -> Double {
        try connection.executeScript("VACUUM (ANALYZE) data_keys")
        // Started one after the other, each past its start-up checks (where it logs in to the
        // token) before the next: SoftHSM2 rewrites its token file on every login, and its file
        // store does not expect several processes to do that at the same instant (SoftHSMv2
        // issue 757). Stopped with SIGTERM, so none is killed in the middle of such a write.
        var workers: [(process: Process, log: URL)] = []
        defer {
            workers.forEach { kek.send(SIGTERM, to: $0.process) }
            for worker in workers where !kek.waitForExit(worker.process, timeout: 15) { kek.send(SIGKILL, to: worker.process) }
        }
        for index in 1...processes {
            let worker = try kek.startLogged(["worker", "--concurrency", String(threads), "--lease", "10s", "--poll-interval", "0.2s",
                                              "--no-schedules", "--worker-id", "hsm-w\(index)"], name: "hsm-w\(index)")
            workers.append(worker)
            try waitForLine("event=worker_started", in: worker.log, of: worker.process)
        }
        let outcome = try succeed(["rotate", "--parts", String(parts), "--batch-size", String(batchSize)])
        guard let job = outcome.stdout.split(separator: " ").last.flatMap({ Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw CommandFailure(outcome.stdout)
        }
        let deadline = Date().addingTimeInterval(600)
        var state = "queued"
        while Date() < deadline {
            state = try connection.query("SELECT state FROM jobs WHERE id = $1", [job])[0].decode(0)
            if ["completed", "failed", "cancelled"].contains(state) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let logs = workers.map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined()
        XCTAssertEqual(state, "completed", logs)
        XCTAssertEqual(try count("SELECT count(*) FROM data_keys WHERE kek_id <> (SELECT id FROM keks WHERE state = 'active')"), 0)
        let seconds: String = try connection.query("SELECT result->>'seconds' FROM jobs WHERE id = $1", [job])[0].decode(0)
        return Double(seconds) ?? .nan
    }

    /// Waits (up to a minute) until a started process has written `line` to its log.
    private func waitForLine(_ line: String, in log: URL, of process: Process) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.contains(line) { return }
            guard process.isRunning else { throw CommandFailure("worker exited before '\(line)': \(text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CommandFailure("no '\(line)' within a minute in \(log.path)")
    }

    /// The wrapped KEKs as '<id> <hex>' lines, for the independent client.
    func wrappedKEKs(underRoot id: String) throws -> String {
        try connection.query("SELECT id, encode(wrapped_key, 'hex') FROM keks WHERE wrapped_key IS NOT NULL AND root_key_id = $1 ORDER BY id", [id])
            .map { "\(try $0.decode(0, as: Int32.self)) \(try $0.decode(1, as: String.self))" }.joined(separator: "\n") + "\n"
    }

    /// KEK fingerprints ('<id> <fingerprint>' lines) as this program unwraps them under `keyring`.
    func kekFingerprints(keyring: String) throws -> String {
        let rootKeys = RootKeys(keyring: try Keyring.parse(keyring), environment: [:])
        return try connection.query("SELECT id, root_key_id, wrapped_key FROM keks WHERE wrapped_key IS NOT NULL ORDER BY id").map { row in
            let id: Int32 = try row.decode(0)
            let key = try rootKeys.cipher(id: try row.decode(1)).unwrapKEK(try row.decode(2), kekID: id)
            return "\(id) \(key.fingerprint)"
        }.joined(separator: "\n") + "\n"
    }

    /// Runs the independent PyKCS11 client (Tests/EndToEndTests/Fixtures/pkcs11_client.py).
    func pythonClient(_ arguments: [String], stdin: String = "") throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pkcs11_client.py").path
        return try token.run("/usr/bin/python3", [script] + arguments, extraEnvironment: ["KEK_PKCS11_PIN": SoftHSMToken.pin], stdin: stdin)
    }
}
