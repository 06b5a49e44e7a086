import Foundation
import HTTPTestSupport
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// A replica with the wrong root keys, or none, cannot harm the store (issue 12).
final class RootKeyEndToEndTests: XCTestCase {
    func testWrongRootWorkerStartedFirstCreatesNoKEKAndHealthyWorkersFinish() throws {
        let s = try RotationScenario(secrets: 3_000)
        let wrong = try s.worker("wrong-root", concurrency: 2, rootKeys: FleetLogs.strangerLine)
        defer { s.kek.send(SIGKILL, to: wrong.process) }
        XCTAssertTrue(FleetLogs.waitFor("kinds_disabled", in: wrong.log), FleetLogs.text(wrong.log))
        XCTAssertTrue(FleetLogs.text(wrong.log).contains("lacks root key(s) r1"), FleetLogs.text(wrong.log))
        let job = try s.enqueueRotation(["--parts", "4", "--batch-size", "250"])
        // The enqueue notifies the wrong worker and it polls every second: three seconds give it
        // every chance to claim. Nothing here depends on timing: a longer wait only proves more.
        Thread.sleep(forTimeInterval: 3)
        XCTAssertEqual(try s.state(ofJob: job), "queued")
        XCTAssertEqual(try s.count("SELECT attempt FROM jobs WHERE id = $1", [job]), 0)
        XCTAssertEqual(try s.count("SELECT count(*) FROM keks"), 1)

        let healthy = try (1...2).map { try s.worker("healthy-\($0)") }
        defer { healthy.forEach { s.kek.send(SIGKILL, to: $0.process) } }
        XCTAssertEqual(try s.waitForEnd(of: job, timeout: 180), "completed", healthy.map { FleetLogs.text($0.log) }.joined())
        try s.assertRotated(from: s.firstKEK, secrets: 3_000)
        XCTAssertEqual(try s.count("SELECT count(*) FROM keks WHERE root_key_id <> 'r1'"), 0)
        XCTAssertEqual(try s.count("SELECT count(*) FROM root_keys WHERE id <> 'r1'"), 0, "the wrong worker planted an identity")
        XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE lease_owner = 'wrong-root'"), 0)
        XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE attempt <> 1"), 0)
        XCTAssertTrue(wrong.process.isRunning, FleetLogs.text(wrong.log))
        FleetLogs.stop(wrong, s.kek)
        healthy.forEach { FleetLogs.stop($0, s.kek) }
    }

    func testWorkerWithoutRootKeysClaimsNoKeyJobSaysWhyAndStaysUp() throws {
        let s = try RotationScenario(secrets: 2_000)
        let bare = try s.worker("no-keys", rootKeys: nil, extra: ["--status-listen", "127.0.0.1:0"])
        defer { s.kek.send(SIGKILL, to: bare.process) }
        let address = try StatusServerProcess.waitForAddress(log: bare.log, process: bare.process)
        XCTAssertTrue(FleetLogs.waitFor("kinds_disabled", in: bare.log), FleetLogs.text(bare.log))

        // Kinds that need no key still run on it.
        XCTAssertEqual(try s.kek.run(["jobs", "enqueue", "noop", "--count", "3"]).status, 0)
        let deadline = Date().addingTimeInterval(30)
        while try s.count("SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'completed'") < 3, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE kind = 'noop' AND lease_owner = 'no-keys' AND state = 'completed'"), 3)

        var ready = try Curl.request(address.base + "/readyz")
        while !ready.text.contains("key jobs not claimed"), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            ready = try Curl.request(address.base + "/readyz")
        }
        XCTAssertEqual(ready.status, 503, ready.text)
        XCTAssertTrue(ready.text.contains("no keys configured"), ready.text)
        var metrics = try Curl.request(address.base + "/metrics")
        while metrics.status != 200, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            metrics = try Curl.request(address.base + "/metrics")
        }
        XCTAssertTrue(metrics.text.contains("\nkek_worker_key_ready 0\n"), metrics.text)

        let job = try s.enqueueRotation(["--parts", "4", "--batch-size", "250"])
        let healthy = try s.worker("healthy")
        defer { s.kek.send(SIGKILL, to: healthy.process) }
        XCTAssertEqual(try s.waitForEnd(of: job, timeout: 180), "completed", FleetLogs.text(healthy.log))
        try s.assertRotated(from: s.firstKEK, secrets: 2_000)
        XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE kind <> 'noop' AND lease_owner = 'no-keys'"), 0)
        XCTAssertEqual(try s.count("SELECT count(*) FROM jobs WHERE kind <> 'noop' AND attempt <> 1"), 0)
        XCTAssertTrue(bare.process.isRunning, FleetLogs.text(bare.log))
        XCTAssertEqual(FleetLogs.occurrences(of: "kinds_disabled", in: bare.log), 1, "one line, not one per poll")
        FleetLogs.stop(bare, s.kek)
        FleetLogs.stop(healthy, s.kek)
    }

    /// What a refused command must leave as it was.
    func storeState(_ s: RotationScenario) throws -> String {
        try s.connection.query("""
            SELECT (SELECT string_agg(id || ':' || state || ':' || root_key_id, ',' ORDER BY id) FROM keks)
                || '|' || (SELECT count(*) FROM audit_log) || '|' || (SELECT count(*) FROM root_keys)
                || '|' || (SELECT count(*) FROM data_keys) || '|' || (SELECT count(*) FROM jobs)
            """)[0].decode(0)
    }

    func testBadKeyringsAreRefusedByEveryCommandAndTheWorkerWithNothingWritten() throws {
        let s = try RotationScenario(secrets: 20)
        let generated = try s.kek.run(["keys", "generate"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let pending = try XCTUnwrap(generated.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let before = try storeState(s)
        let first = String(s.firstKEK)
        let refusing: [[String]] = [["keys", "generate", "--activate"], ["keys", "activate", pending],
                                    ["keys", "compromised", first], ["rotate"], ["rotate-root"]]
        let cases: [(name: String, line: String, expect: String, worker: Bool)] = [
            ("same id, other key", FleetLogs.impostorLine, "root key 'r1' in KEK_ROOT_KEYS is not the key this database recorded", true),
            ("lacks the active root", FleetLogs.strangerLine, "nothing was written", false),
            ("empty keyring", " , ", "key list is empty", true),
            ("no keyring", "", "no keys configured", false),
        ]
        for item in cases {
            var binary = s.kek
            binary.environment["KEK_ROOT_KEYS"] = item.line
            var commands = refusing
            if item.line == FleetLogs.impostorLine { commands += [["verify"], ["secrets", "list", "--project", s.project.uuidString]] }
            for command in commands {
                let outcome = try binary.run(command)
                XCTAssertNotEqual(outcome.status, 0, "\(item.name): kek \(command.joined(separator: " ")) succeeded")
                XCTAssertTrue(outcome.stderr.contains(item.expect), "\(item.name): \(command): \(outcome.stderr)")
                XCTAssertFalse(outcome.stderr.contains(Data(repeating: 43, count: 32).base64EncodedString()))
            }
            if item.worker {
                let worker = try binary.startLogged(["worker", "--no-schedules", "--worker-id", "refused"], name: "refused")
                XCTAssertTrue(binary.waitForExit(worker.process, timeout: 30), "\(item.name): the worker started")
                XCTAssertNotEqual(worker.process.terminationStatus, 0)
                XCTAssertTrue(FleetLogs.text(worker.log).contains(item.expect), "\(item.name): \(FleetLogs.text(worker.log))")
            }
            XCTAssertEqual(try storeState(s), before, "\(item.name) changed the store")
        }
    }
}
