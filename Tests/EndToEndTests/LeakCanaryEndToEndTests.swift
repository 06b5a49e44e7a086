import EnvelopeCrypto
import Foundation
import HTTPTestSupport
import PostgresClient
import TestSupport
import XCTest

/// A canary value and a canary root key placed in every refusal path (import-env from a file,
/// from the environment and as a job; secrets put; keyring loading; a value that fails to
/// decrypt) never appear in any output, table, endpoint or PostgreSQL's own log, whole or in part.
final class LeakCanaryEndToEndTests: XCTestCase {
    /// A value nobody else writes: "CANARY-" and 24 random hex digits.
    let value = "CANARY-" + Hex.encode((0..<12).map { _ in UInt8.random(in: 0...255) })
    /// A root key nobody else has, as base64 (44 characters, its only `=` at the end).
    let rootKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

    func testCanariesNeverEscapeAnyRefusalPath() throws {
        let h = try SecretsHarness()
        let folder = try temporaryFolder()
        let keyFile = folder + "/root-keys"
        try write(keyFile, "root-a:\(rootKey)\n")

        // The worker, holding both canaries in its environment, with its status server.
        let worker = try h.kek(["LEAK_TOKEN": value, "LEAK_ROOT": "root-a:\(rootKey)"]).startLogged(
            ["worker", "--worker-id", "leak-worker", "--no-schedules", "--poll-interval", "1s", "--status-listen", "127.0.0.1:0"],
            name: "leak-worker")
        defer {
            worker.process.terminate()
            worker.process.waitUntilExit()
        }
        let (base, _) = try StatusServerProcess.waitForAddress(log: worker.log, process: worker.process)

        // import-env, file: every kind of broken line carries a canary.
        let envFile = folder + "/broken.env"
        var broken = Array("""
            root-a:\(rootKey)
            DATABASE_URL: postgres://app:\(value)@db/prod
            \(value)
            BAD-\(value)=x
            OPEN='\(value)
            AMBIGUOUS= #\(value)
            EXPANDED=${\(value)}
            AFTER="x"\(value)
            NEVER_CLOSED="\(value)
            """.utf8)
        broken += Array("\nNUL=\(value)".utf8) + [0] + Array("\n".utf8)
        try Data(broken).write(to: URL(fileURLWithPath: envFile))
        for extra in [[], ["--dry-run"], ["--json"]] {
            let out = try h.run(["import-env", "--project", h.project, "--env-file", envFile] + extra)
            XCTAssertNotEqual(out.status, 0, out.stdout)
        }
        // The root key file itself, read as an env file (the line's only '=' is the key's padding).
        let keyAsEnv = try h.run(["import-env", "--project", h.project, "--env-file", keyFile, "--dry-run"])
        XCTAssertNotEqual(keyAsEnv.status, 0)
        XCTAssertTrue(keyAsEnv.stderr.contains("invalid name of 50 bytes"), keyAsEnv.stderr)

        // import-env, environment: an invalid name, a value over the limit, kek's own variables.
        let env = ["LEAK_\(value)": "x", "LEAK_BIG": String(repeating: value, count: 3000), "KEK_CANARY": "root-a:\(rootKey)"]
        for prefix in ["LEAK_", "KEK_"] {
            let out = try h.run(["import-env", "--project", h.project, "--prefix", prefix, "--dry-run"], env: env)
            XCTAssertNotEqual(out.status, 0, out.stdout)
        }

        // import-env, as a job enqueued by the kek_worker role: the worker reads nothing.
        let jobs = try [
            #"{"project": "\#(h.project)", "env_file": "\#(keyFile)", "dry_run": true}"#,
            #"{"project": "\#(h.project)", "prefix": "LEAK_"}"#,
            #"{"project": "\#(h.project)", "env_file": "\#(envFile)", "prefix": "LEAK_", "strip_prefix": true}"#,
        ].map { try enqueueAsWorkerRole(h.connection, args: $0) }
        XCTAssertTrue(try waitUntil(timeout: 60, interval: 0.1) {
            try h.connection.query("SELECT count(*) FROM jobs WHERE id = ANY($1) AND state = 'failed'", [PostgresArray(jobs)])[0]
                .decode(0, as: Int.self) == jobs.count
        }, "import_env jobs did not fail")
        let errors: [String] = try h.connection.query("SELECT last_error FROM jobs WHERE id = ANY($1)", [PostgresArray(jobs)])
            .map { try $0.decode(0) }
        XCTAssertTrue(errors.allSatisfy { $0.contains("no longer read a file or the worker's environment") }, "\(errors)")
        let attempts: [Int] = try h.connection.query("SELECT attempt FROM jobs WHERE id = ANY($1)", [PostgresArray(jobs)])
            .map { try $0.decode(0) }
        XCTAssertEqual(attempts, [1, 1, 1], "refused at once, never retried")
        XCTAssertEqual(try h.digest("project_secrets"), "", "nothing imported from the worker's file or environment")
        XCTAssertEqual(try h.digest("env_imports"), "")

        // secrets put: the value as a name, a value over the limit.
        XCTAssertNotEqual(try h.run(["secrets", "put", "--project", h.project, value], stdin: "x").status, 0)
        XCTAssertNotEqual(try h.run(["secrets", "put", "--project", h.project, "root-a:\(rootKey)"], stdin: "x").status, 0)
        XCTAssertNotEqual(try h.run(["secrets", "put", "--project", h.project, "BIG"],
                                    stdin: String(repeating: value, count: 3000)).status, 0)

        // The value typed where a name goes, for get and rm.
        XCTAssertNotEqual(try h.run(["secrets", "get", "--project", h.project, value]).status, 0)
        XCTAssertNotEqual(try h.run(["secrets", "rm", "--project", h.project, value]).status, 0)

        // Keyring loading: the canary key in every malformed shape.
        for keys in ["root-a:\(rootKey)x", "\(rootKey)", "root-a:\(rootKey),root-a:\(rootKey)", "\(rootKey):\(rootKey)",
                     "root-a:\(rootKey.dropLast(4))", "root-a:\(rootKey)=="] {
            let out = try h.run(["secrets", "list", "--project", h.project], env: ["KEK_ROOT_KEYS": keys])
            XCTAssertNotEqual(out.status, 0, "accepted keyring shape")
        }
        try write(keyFile + ".bad", "root-a:\(rootKey)==\n")
        let fromFile = try h.kek().run(["secrets", "list", "--project", h.project],
                                       stdin: nil)  // baseline: the harness keys work
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        var noInline = h.kek(["KEK_ROOT_KEYS_FILE": keyFile + ".bad"])
        noInline.environment.removeValue(forKey: "KEK_ROOT_KEYS")
        let badFile = try noInline.run(["secrets", "list", "--project", h.project])
        XCTAssertNotEqual(badFile.status, 0)
        h.record(badFile)

        // A value that fails to decrypt: stored, then its ciphertext damaged; then opened with the
        // canary key standing in for the real root key.
        XCTAssertEqual(try h.run(["secrets", "put", "--project", h.project, "STORED"], stdin: value).status, 0)
        try h.connection.execute("UPDATE project_secrets SET ciphertext = overlay(ciphertext placing '\\xff'::bytea from 20 for 1) WHERE name = 'STORED'")
        let damaged = try h.run(["secrets", "get", "--project", h.project, "STORED"])
        XCTAssertNotEqual(damaged.status, 0)
        h.record(damaged)
        let wrongRoot = try h.run(["secrets", "get", "--project", h.project, "STORED"], env: ["KEK_ROOT_KEYS": "r1:\(rootKey)"])
        XCTAssertNotEqual(wrongRoot.status, 0)
        h.record(wrongRoot)
        let verify = try h.run(["verify", "--values"])
        h.record(verify)

        // Everything anyone could read.
        var places: [(String, String)] = [("stdout and stderr", h.outputs), ("tables", try h.dump())]
        for path in ["/status", "/metrics", "/readyz", "/api/v1/kek/status"] {
            places.append((path, try Curl.request(base + path).text))
        }
        worker.process.terminate()
        worker.process.waitUntilExit()
        places.append(("worker log", (try? String(contentsOf: worker.log, encoding: .utf8)) ?? ""))
        places.append(("PostgreSQL server.log", try String(contentsOfFile: try TestDatabase.serverLogPath, encoding: .utf8)))
        XCTAssertTrue(places[0].1.contains("invalid"), "the refusals were printed")
        XCTAssertNotNil(Self.firstSlice(of: rootKey, in: "x" + rootKey.dropFirst(9).prefix(10) + "y"), "the check finds a slice")
        for (place, text) in places {
            for canary in [value, rootKey] {
                if let slice = Self.firstSlice(of: canary, in: text) {
                    XCTFail("\(place) holds '\(slice)', part of a canary")
                }
            }
        }
        print("leak canary: \(places.map { "\($0.0) \($0.1.utf8.count) B" }.joined(separator: ", ")) checked")
    }

    /// The first 10-character piece of `canary` found in `text` (a slice leaks as much as the
    /// whole: 10 base64 characters are 60 bits of a key), or nil.
    static func firstSlice(of canary: String, in text: String) -> String? {
        let characters = Array(canary)
        for start in 0...(characters.count - 10) {
            let piece = String(characters[start..<start + 10])
            if piece.hasPrefix("CANARY-") { continue }
            if text.contains(piece) { return piece }
        }
        return nil
    }

    private func enqueueAsWorkerRole(_ connection: PostgresConnection, args: String) throws -> Int64 {
        try connection.transaction {
            try connection.execute("SET LOCAL ROLE kek_worker")
            return try connection.query("INSERT INTO jobs (kind, args) VALUES ('import_env', $1::jsonb) RETURNING id", [args])[0]
                .decode(0)
        }
    }

    private func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leak-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    private func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
    }
}
