import Foundation
import JobQueue
import PostgresClient
import Synchronization
import TestSupport
import XCTest

/// Jobs and housekeeping through lost connections, long waits and failing steps.
final class JobQueueSurvivalTests: XCTestCase {
    /// Five steps, each a batch recording its step; the first time through step 3 it
    /// terminates its own server session in the middle of the batch.
    final class DyingHandler: JobHandler {
        struct Arguments: JobArguments { static let kind = "dying" }
        struct Checkpoint: Codable, Sendable { var step: Int }
        let died = Atomic<Bool>(false)

        func run(_ context: JobContext, _ arguments: Arguments, _ checkpoint: Checkpoint?) throws -> JobOutcome {
            var step = checkpoint?.step ?? 0
            while step < 5 {
                let next = step + 1
                try context.batch(progressDone: Int64(next), checkpoint: Checkpoint(step: next)) { db in
                    try db.execute("INSERT INTO noop_runs (job_id, step, worker_id) VALUES ($1, $2::int4, $3)",
                                   [context.job.id, next, context.workerID])
                    if next == 3, !died.exchange(true, ordering: .relaxed) {
                        try db.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                    }
                }
                step = next
            }
            return .completed(result: nil)
        }
    }

    func testRunnerResumesItsJobUnderTheSameLeaseAfterItsSessionIsTerminated() throws {
        let fixture = try QueueFixture()
        var handlers = JobHandlerRegistry()
        handlers.register(DyingHandler())
        let events = RecordedEvents()
        let runner = try fixture.runner(handlers, worker: "survivor", lease: 60, events: events)
        let job = try fixture.queue.enqueue(JobRequest(kind: "dying"))
        let result = try runner.runNext()
        XCTAssertEqual(result?.state, .completed)
        let finished = try fixture.job(job.id)
        XCTAssertEqual(finished.attempt, 1, "the outage must not cost an attempt")
        XCTAssertEqual(finished.leaseOwner, "survivor")
        XCTAssertEqual(events.names(for: job.id), ["claimed", "connection_lost", "resumed", "completed"])
        // The batch cut by the outage was rolled back and done once, on the new session.
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM noop_runs WHERE job_id = $1", [job.id]), 5)
        XCTAssertEqual(try fixture.count("SELECT count(DISTINCT step) FROM noop_runs WHERE job_id = $1", [job.id]), 5)
    }

    /// Sleeps `seconds` in one `context.wait`, then completes.
    struct SleepingHandler: JobHandler {
        struct Arguments: JobArguments { static let kind = "sleepy" }
        let seconds: Double
        func run(_ context: JobContext, _ arguments: Arguments, _ checkpoint: NoCheckpoint?) throws -> JobOutcome {
            try context.wait(seconds)
            return .completed(result: nil)
        }
    }

    func testSleepingHandlerKeepsItsLeaseAcrossSeveralLeasePeriods() throws {
        let fixture = try QueueFixture()
        var handlers = JobHandlerRegistry()
        handlers.register(SleepingHandler(seconds: 5))
        let job = try fixture.queue.enqueue(JobRequest(kind: "sleepy"))
        let url = fixture.url
        let registry = handlers
        let thread = Thread {
            let sleeper = JobRunner(connection: try! PostgresConnection(url), workerID: "sleeper", handlers: registry, leaseSeconds: 1)
            _ = try? sleeper.runNext()
        }
        thread.start()
        XCTAssertTrue(try waitUntil(timeout: 5) { try fixture.job(job.id).state == .running })
        // Another worker keeps trying to take it over; with the lease renewed it never can.
        let rival = try fixture.runner(handlers, worker: "rival", lease: 1)
        var rivalClaims = 0
        XCTAssertTrue(try waitUntil(timeout: 15) {
            if try rival.runNext() != nil { rivalClaims += 1 }
            return try fixture.job(job.id).state.isFinished
        })
        let finished = try fixture.job(job.id)
        XCTAssertEqual(rivalClaims, 0)
        XCTAssertEqual(finished.state, .completed)
        XCTAssertEqual(finished.attempt, 1)
        XCTAssertEqual(finished.leaseOwner, "sleeper")
    }

    func testFailingPruneDelaysNeitherHeartbeatsNorSchedules() throws {
        let fixture = try QueueFixture()
        // Every prune fails: a statement trigger refuses any DELETE on jobs.
        try fixture.db.executeScript("""
            CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'prune refused for this test'; END $$;
            CREATE TRIGGER refuse_delete BEFORE DELETE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
            """)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("schedules-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try #"{"kind": "noop", "every": "1h"}"#.write(to: folder.appendingPathComponent("hourly.json"), atomically: true, encoding: .utf8)
        var configuration = WorkerConfiguration(databaseURL: fixture.url, workerID: "keeper")
        configuration.heartbeatInterval = 0.5
        configuration.pruneInterval = 0.1
        configuration.retention = 1
        configuration.scheduleInterval = 0.5
        configuration.schedules = try JobSchedule.load(directory: folder.path)
        let events = RecordedEvents()
        let worker = JobWorker(configuration: configuration, handlers: .noop, events: events)
        worker.start()
        defer {
            worker.requestStop()
            _ = worker.waitUntilStopped(timeout: 5)
        }
        XCTAssertTrue(try waitUntil(timeout: 10) {
            try fixture.count("SELECT count(*) FROM jobs WHERE unique_key = 'schedule:hourly'") == 1
        }, "a due schedule is enqueued although every prune fails")
        var beats: Set<Double> = []
        let start = Date()
        XCTAssertTrue(try waitUntil(timeout: 10) {
            if let at: Double = try fixture.db.query(
                "SELECT extract(epoch FROM last_heartbeat_at)::float8 FROM workers WHERE id = 'keeper'").first?.decode(0) {
                beats.insert(at)
            }
            return beats.count >= 5
        }, "heartbeats every 0.5s: \(beats.count) seen")
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, 5, "5 heartbeats at a 0.5s interval took \(elapsed)s")
        XCTAssertTrue(events.all.contains { $0.event == "error" && ($0.message ?? "").contains("prune refused") })
    }
}
