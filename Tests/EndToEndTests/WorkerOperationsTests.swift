import Foundation
import PostgresClient
import TestSupport
import XCTest

/// The worker as a service manager runs it: systemd notifications, SIGHUP, JSON log lines.
final class WorkerOperationsTests: XCTestCase {
    func testJSONLogsNotifySocketAndSIGHUP() throws {
        let url = try TestDatabase.migrated()
        let notify = try NotifySocket()
        // Every option from its KEK_* variable, as a unit file or a Deployment sets them.
        let kek = KekBinary(databaseURL: url, extra: [
            "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000",
            "KEK_LOG_FORMAT": "json", "KEK_NO_SCHEDULES": "1", "KEK_POLL_INTERVAL": "500ms",
            "KEK_WORKER_ID": "ops-1", "KEK_STATUS_LISTEN": "localhost:0",
        ])
        let worker = try kek.startLogged(["worker"], name: "ops")
        defer { if worker.process.isRunning { kek.send(SIGKILL, to: worker.process) } }
        XCTAssertFalse(notify.waitFor("READY=1", timeout: 30).isEmpty)
        XCTAssertTrue(notify.waitFor("WATCHDOG=1", timeout: 10).contains("WATCHDOG=1"))
        _ = try StatusServerProcess.waitForAddress(log: worker.log, process: worker.process)

        kek.send(SIGHUP, to: worker.process)
        let job = try kek.run(["jobs", "enqueue", "noop", "--args", #"{"steps": 1}"#, "--json"])
        XCTAssertEqual(job.status, 0, job.stderr)
        // `kek jobs enqueue` refuses arguments the kind cannot decode; a row written another way
        // (an older kek, a program of its own) can still hold them, and its job fails.
        let refused = try kek.run(["jobs", "enqueue", "noop", "--args", #"{"steps": "not a number"}"#, "--max-attempts", "1"])
        XCTAssertNotEqual(refused.status, 0, refused.stdout)
        let connection = try PostgresConnection(url)
        try connection.execute(#"INSERT INTO jobs (kind, args, max_attempts) VALUES ('noop', '{"steps": "not a number"}', 1)"#)
        let deadline = Date().addingTimeInterval(60)
        while try connection.query("SELECT count(*)::int8 FROM jobs WHERE state IN ('completed', 'failed')")[0].decode(0, as: Int.self) < 2,
              Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertTrue(worker.process.isRunning, "SIGHUP must not stop the worker")
        kek.send(SIGTERM, to: worker.process)
        XCTAssertTrue(kek.waitForExit(worker.process, timeout: 30))
        XCTAssertEqual(worker.process.terminationStatus, 0)

        let lines = try String(contentsOf: worker.log, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 3)
        var levels: Set<String> = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object, "not a JSON line: \(line)")
            let level = object?["level"] as? String
            XCTAssertTrue(["info", "warn", "error"].contains(level ?? ""), "no level: \(line)")
            levels.insert(level ?? "")
            let time = object?["time"] as? String ?? ""
            XCTAssertNotNil(try? Date(time, strategy: .iso8601), "not RFC 3339: \(time)")
            XCTAssertTrue(time.hasSuffix("Z"), "no time zone: \(time)")
        }
        XCTAssertTrue(levels.contains("error"), "the failed job is logged at level error")
    }
}
