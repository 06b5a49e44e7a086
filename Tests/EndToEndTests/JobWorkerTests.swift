import Foundation
import PostgresClient
import TestSupport
import XCTest

/// The job runner through the built `kek` binary: several worker processes, killed, frozen
/// and stopped workers. noop's `record` writes one `noop_runs` row per step inside that
/// step's batch transaction, so a batch lost or applied twice shows up as a missing or
/// duplicate row.
final class JobWorkerEndToEndTests: XCTestCase {
    struct Setup: DatabaseFixture {
        let url: String
        let db: PostgresConnection
        var connection: PostgresConnection { db }
        let kek: KekBinary

        init() throws {
            url = try TestDatabase.migrated()
            db = try PostgresConnection(url)
            try db.execute("CREATE TABLE noop_runs (job_id int8, step int4, worker_id text, attempt int4)")
            try db.execute("GRANT INSERT, SELECT ON noop_runs TO kek_worker")   // kek runs as a kek_worker login
            kek = KekBinary(databaseURL: url)
        }

        func value<T: PostgresDecodable>(_ sql: String, _ parameters: [any PostgresEncodable] = [], as type: T.Type = T.self) throws -> T {
            try db.query(sql, parameters)[0].decode(0)
        }

        func worker(_ id: String, _ extra: [String] = []) throws -> (process: Process, log: URL) {
            try kek.startLogged(["worker", "--worker-id", id, "--no-schedules", "--poll-interval", "1s"] + extra, name: id)
        }

        func enqueue(_ args: String) throws -> Int64 {
            let out = try kek.run(["jobs", "enqueue", "noop", "--args", args, "--json"])
            guard out.status == 0, let data = out.stdout.data(using: .utf8),
                  let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let id = object["id"] as? Int else {
                throw TestFailure(description: "enqueue failed: \(out.stderr)")
            }
            return Int64(id)
        }

        /// Waits for `condition`, collecting the job's progress on the way to check it never goes back.
        func waitUntil(_ timeout: Double, job: Int64? = nil, progress: inout [Int64], _ condition: () throws -> Bool) throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let job { progress.append(try value("SELECT progress_done FROM jobs WHERE id = $1", [job])) }
                if try condition() { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        func log(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
    }

    func testFourWorkerProcessesRunTwoThousandJobsExactlyOnce() throws {
        let setup = try Setup()
        let enqueued = try setup.kek.run(["jobs", "enqueue", "noop", "--count", "2000", "--args", #"{"record": true}"#])
        XCTAssertEqual(enqueued.stdout, "enqueued 2000 noop jobs\n", enqueued.stderr)
        let workers = try (1...4).map { try setup.worker("w\($0)", ["--concurrency", "1"]) }
        var ignored: [Int64] = []
        let done = try setup.waitUntil(180, progress: &ignored) {
            try setup.count("SELECT count(*) FROM jobs WHERE state = 'completed'") == 2000
        }
        for worker in workers { setup.kek.send(SIGTERM, to: worker.process) }
        for worker in workers {
            XCTAssertTrue(setup.kek.waitForExit(worker.process, timeout: 30))
            XCTAssertEqual(worker.process.terminationStatus, 0, setup.log(worker.log))
        }
        let completed = try setup.count("SELECT count(*) FROM jobs WHERE state = 'completed'")
        XCTAssertTrue(done, "completed: \(completed)")
        XCTAssertEqual(try setup.count("SELECT count(*) FROM noop_runs"), 2000)
        XCTAssertEqual(try setup.count("SELECT count(DISTINCT job_id) FROM noop_runs"), 2000)
        XCTAssertEqual(try setup.count("SELECT count(*) FROM jobs WHERE attempt <> 1 OR state <> 'completed'"), 0)
        let perWorker = try setup.db.query("SELECT worker_id, count(*) FROM noop_runs GROUP BY 1 ORDER BY 1")
            .map { "\(try $0.decode(0, as: String.self))=\(try $0.decode(1, as: Int.self))" }
        print("jobs per worker: \(perWorker.joined(separator: " "))")
        XCTAssertGreaterThan(perWorker.count, 1, "work was shared")
        XCTAssertEqual(try setup.count("SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL"), 4)
    }

    func testKilledWorkersJobIsFinishedElsewhereFromItsLastCheckpoint() throws {
        let setup = try Setup()
        let job = try setup.enqueue(#"{"steps": 10, "sleep_ms": 300, "record": true}"#)
        let first = try setup.worker("doomed", ["--lease", "2s"])
        var progress: [Int64] = []
        XCTAssertTrue(try setup.waitUntil(20, job: job, progress: &progress) {
            try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job], as: Int64.self) >= 3
        })
        setup.kek.send(SIGKILL, to: first.process)
        XCTAssertTrue(setup.kek.waitForExit(first.process, timeout: 5))
        let committed: Int64 = try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job])

        let second = try setup.worker("heir", ["--lease", "2s"])
        let finished = try setup.waitUntil(40, job: job, progress: &progress) {
            try setup.value("SELECT state FROM jobs WHERE id = $1", [job], as: String.self) == "completed"
        }
        setup.kek.send(SIGTERM, to: second.process)
        XCTAssertTrue(setup.kek.waitForExit(second.process, timeout: 10))
        XCTAssertTrue(finished, setup.log(second.log))
        XCTAssertEqual(progress, progress.sorted(), "progress never goes backwards")
        let steps = try setup.db.query("SELECT step, worker_id FROM noop_runs WHERE job_id = $1 ORDER BY step", [job])
            .map { (try $0.decode(0, as: Int.self), try $0.decode(1, as: String.self)) }
        XCTAssertEqual(steps.map(\.0), Array(1...10), "each step applied exactly once")
        XCTAssertEqual(steps.filter { $0.1 == "doomed" }.count, Int(committed), "the killed worker's committed steps count")
        XCTAssertEqual(steps.filter { $0.1 == "heir" }.map(\.0).first, Int(committed) + 1, "resumed after the last checkpoint")
        XCTAssertEqual(try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job], as: Int64.self), 10)
        XCTAssertEqual(try setup.value("SELECT attempt FROM jobs WHERE id = $1", [job], as: Int.self), 2)
        XCTAssertEqual(second.process.terminationStatus, 0)
    }

    func testFrozenWorkerThatWakesUpCannotWriteForAJobAnotherWorkerTookOver() throws {
        let setup = try Setup()
        let job = try setup.enqueue(#"{"steps": 8, "sleep_ms": 400, "record": true}"#)
        let zombie = try setup.worker("zombie", ["--lease", "2s"])
        var progress: [Int64] = []
        XCTAssertTrue(try setup.waitUntil(20, job: job, progress: &progress) {
            try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job], as: Int64.self) >= 2
        })
        setup.kek.send(SIGSTOP, to: zombie.process)
        let frozenAt: Int64 = try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job])

        let rescuer = try setup.worker("rescuer", ["--lease", "2s"])
        XCTAssertTrue(try setup.waitUntil(20, job: job, progress: &progress) {
            try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job], as: Int64.self) >= frozenAt + 2
        }, "the rescuer took over after the lease expired")
        setup.kek.send(SIGCONT, to: zombie.process)
        let finished = try setup.waitUntil(40, job: job, progress: &progress) {
            try setup.value("SELECT state FROM jobs WHERE id = $1", [job], as: String.self) == "completed"
        }
        Thread.sleep(forTimeInterval: 1) // let the zombie attempt its late writes
        for worker in [zombie, rescuer] { setup.kek.send(SIGTERM, to: worker.process) }
        for worker in [zombie, rescuer] {
            XCTAssertTrue(setup.kek.waitForExit(worker.process, timeout: 15))
            XCTAssertEqual(worker.process.terminationStatus, 0, setup.log(worker.log))
        }
        XCTAssertTrue(finished)
        XCTAssertEqual(progress, progress.sorted(), "progress never goes backwards")
        let steps = try setup.db.query("SELECT step FROM noop_runs WHERE job_id = $1 ORDER BY step", [job])
            .map { try $0.decode(0, as: Int.self) }
        XCTAssertEqual(steps, Array(1...8), "no batch lost, none applied twice")
        let zombieLog = setup.log(zombie.log)
        let rescuerLog = setup.log(rescuer.log)
        XCTAssertTrue(zombieLog.contains("event=lease_lost") || zombieLog.contains("terminating connection"), zombieLog)
        XCTAssertFalse(zombieLog.contains("event=completed"), zombieLog)
        print("zombie after SIGCONT:", zombieLog.split(separator: "\n").filter { $0.contains("lease_lost") || $0.contains("error") })
        XCTAssertEqual(rescuerLog.components(separatedBy: "event=completed").count - 1, 1, rescuerLog)
        XCTAssertEqual(try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job], as: Int64.self), 8)
    }

    func testSigtermReleasesTheJobAtItsCheckpointAndExitsZeroInTime() throws {
        let setup = try Setup()
        let job = try setup.enqueue(#"{"steps": 20, "sleep_ms": 250, "record": true}"#)
        let first = try setup.worker("leaving", ["--shutdown-timeout", "5s", "--log-format", "json"])
        var progress: [Int64] = []
        XCTAssertTrue(try setup.waitUntil(20, job: job, progress: &progress) {
            try setup.value("SELECT progress_done FROM jobs WHERE id = $1", [job], as: Int64.self) >= 3
        })
        let signalled = Date()
        setup.kek.send(SIGTERM, to: first.process)
        XCTAssertTrue(setup.kek.waitForExit(first.process, timeout: 5))
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5)
        XCTAssertEqual(first.process.terminationStatus, 0, setup.log(first.log))
        let row = try setup.db.query("SELECT state, attempt, progress_done, checkpoint->>'step' FROM jobs WHERE id = $1", [job])[0]
        XCTAssertEqual(try row.decode(0, as: String.self), "queued")
        XCTAssertEqual(try row.decode(1, as: Int.self), 0, "released without burning an attempt")
        let released = try row.decode(2, as: Int64.self)
        XCTAssertEqual(try row.decode(3, as: String.self), "\(released)")
        XCTAssertEqual(try setup.count("SELECT count(*) FROM noop_runs WHERE job_id = $1", [job]), Int(released))
        let lines = setup.log(first.log).split(separator: "\n")
        XCTAssertTrue(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] },
                      "every log line is JSON")
        XCTAssertTrue(lines.contains { $0.contains("\"event\":\"released\"") })

        let second = try setup.worker("staying")
        XCTAssertTrue(try setup.waitUntil(30, job: job, progress: &progress) {
            try setup.value("SELECT state FROM jobs WHERE id = $1", [job], as: String.self) == "completed"
        })
        setup.kek.send(SIGTERM, to: second.process)
        XCTAssertTrue(setup.kek.waitForExit(second.process, timeout: 10))
        let steps = try setup.db.query("SELECT step FROM noop_runs WHERE job_id = $1 ORDER BY step", [job])
            .map { try $0.decode(0, as: Int.self) }
        XCTAssertEqual(steps, Array(1...20))
        XCTAssertEqual(try setup.value("SELECT attempt FROM jobs WHERE id = $1", [job], as: Int.self), 1)
    }

    func testJobsCommandsEnqueueFromFileAndControlJobs() throws {
        let setup = try Setup()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("smoke-\(UUID()).json")
        try #"{"kind": "noop", "args": {"steps": 2}, "every": "1h"}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let first = try setup.kek.run(["jobs", "enqueue", "--file", file.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.hasPrefix("enqueued job 1"), first.stdout)
        let again = try setup.kek.run(["jobs", "enqueue", "--file", file.path])
        XCTAssertTrue(again.stdout.contains("already holds unique key"), again.stdout)

        XCTAssertEqual(try setup.kek.run(["jobs", "pause", "1"]).stdout, "job 1 is now paused\n")
        XCTAssertEqual(try setup.kek.run(["jobs", "resume", "1"]).stdout, "job 1 is now queued\n")
        XCTAssertEqual(try setup.kek.run(["jobs", "cancel", "1"]).stdout, "job 1 is now cancelled\n")
        let refused = try setup.kek.run(["jobs", "cancel", "1"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("job 1 is cancelled; 'cancel' does not apply"), refused.stderr)
        XCTAssertEqual(try setup.kek.run(["jobs", "retry", "1", "--json"]).stdout, #"{"changed":true,"id":1,"state":"queued"}"# + "\n")
        let list = try setup.kek.run(["jobs", "list", "--json", "--state", "queued"])
        let jobs = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(jobs?.count, 1)
        XCTAssertEqual((jobs?.first?["args"] as? [String: Any])?["steps"] as? Int, 2)
        XCTAssertEqual(jobs?.first?["unique_key"] as? String, "schedule:\(file.deletingPathExtension().lastPathComponent)")
        let show = try setup.kek.run(["jobs", "show", "1"])
        XCTAssertTrue(show.stdout.split(separator: "\n").contains { $0.hasPrefix("state ") && $0.hasSuffix(" queued") }, show.stdout)
        XCTAssertEqual(try setup.kek.run(["jobs", "show", "999"]).status, 1)
        XCTAssertEqual(try setup.kek.run(["jobs", "enqueue", "noop", "--args", "[1]"]).status, 2)
    }
}
