import Foundation
import JobQueue
import PostgresClient
import Synchronization
import XCTest

/// The typed boundary: payloads decoded once (a malformed one fails the job at once, without
/// quoting it), and a handler writes only through the fenced `batch`: its read handle is a
/// READ ONLY transaction, so PostgreSQL refuses a write there (25006), and a worker whose
/// lease was taken can write through no handle at all.
final class JobHandleFenceTests: XCTestCase {
    /// The built-in kind's payloads keep the keys `jobs/noop-smoke.json` and older rows use.
    func testNoopPayloadsRoundTripWithTheirKeys() throws {
        let arguments = NoopArguments(steps: 3, sleepMilliseconds: 100, record: true)
        XCTAssertEqual(try JSONCodec.encode(arguments), #"{"record":true,"sleep_ms":100,"steps":3}"#)
        XCTAssertEqual(try JSONCodec.decode(NoopArguments.self, from: #"{"steps": 3, "sleep_ms": 100, "record": true}"#), arguments)
        XCTAssertEqual(try JSONCodec.encode(NoopJobHandler.Checkpoint(step: 2)), #"{"step":2}"#)
        XCTAssertEqual(try JSONCodec.encode(NoopResult(steps: 3)), #"{"steps":3}"#)
        let request = try JobRequest(arguments, maxAttempts: 3)
        XCTAssertEqual(request.kind, "noop")
        XCTAssertEqual(request.argumentsJSON, #"{"record":true,"sleep_ms":100,"steps":3}"#)
    }

    func testMalformedCheckpointFailsTheJobPermanentlyOnTheFirstAttempt() throws {
        let fixture = try QueueFixture()
        let job = try fixture.queue.enqueue(try JobRequest(NoopArguments(steps: 3), maxAttempts: 5))
        try fixture.db.execute(#"UPDATE jobs SET checkpoint = '{"step": "secret-ish"}' WHERE id = $1"#, [job.id])
        XCTAssertEqual(try fixture.runner(.noop).runNext()?.state, .failed)
        let failed = try fixture.job(job.id)
        XCTAssertEqual(failed.attempt, 1, "no retry: the stored bytes do not change")
        XCTAssertEqual(failed.lastError,
                       "job \(job.id) (noop): checkpoint cannot be decoded as Checkpoint: 'step' is not Int")
        XCTAssertFalse(failed.lastError?.contains("secret-ish") ?? true, "the payload is never quoted")

        // Arguments follow the same rule, also when the decoder's own text would quote them.
        let bad = try fixture.queue.enqueue(JobRequest(kind: "noop", argumentsJSON: #"{"steps": 2, "record": "secret-ish"}"#))
        XCTAssertEqual(try fixture.runner(.noop).runNext()?.state, .failed)
        XCTAssertEqual(try fixture.job(bad.id).attempt, 1)
        XCTAssertEqual(try fixture.job(bad.id).lastError,
                       "job \(bad.id) (noop): arguments cannot be decoded as NoopArguments: 'record' is not Bool")
    }

    /// A batch records only the handler's own `Checkpoint` type: anything else is refused and
    /// rolled back, before it could be stored and fail every resume.
    func testABatchRefusesACheckpointOfAnotherType() throws {
        struct Arguments: JobArguments { static let kind = "drifting" }
        struct DriftingHandler: JobHandler {
            func run(_ context: JobContext, _ arguments: Arguments, _ checkpoint: NoopJobHandler.Checkpoint?) throws -> JobOutcome {
                try context.batch(progressDone: 1, checkpoint: ["step": 1]) { db in
                    try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 1)", [context.job.id])
                }
                return .completed(result: nil)
            }
        }
        let fixture = try QueueFixture()
        var registry = JobHandlerRegistry()
        registry.register(DriftingHandler())
        let job = try fixture.queue.enqueue(try JobRequest(Arguments(), maxAttempts: 1))
        XCTAssertEqual(try fixture.runner(registry).runNext()?.state, .failed)
        XCTAssertEqual(try fixture.job(job.id).lastError,
                       "job \(job.id) (drifting): checkpoint is a Dictionary<String, Int>, its handler resumes from Checkpoint")
        XCTAssertNil(try fixture.job(job.id).checkpointJSON)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM noop_runs"), 0)
    }

    func testTheReadHandleCannotWrite() throws {
        let fixture = try QueueFixture()
        let seen = Mutex<[String]>([])
        var registry = JobHandlerRegistry()
        registry.register("reader") { context in
            do {
                try context.read { db in
                    try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 1)", [context.job.id])
                }
            } catch let error as PostgresError {
                seen.withLock { $0.append(error.sqlState?.code ?? "none") }
            }
            do {
                try context.enqueue(JobRequest(kind: "noop"))
            } catch let error as PostgresError {
                seen.withLock { $0.append(error.kind == .usage ? "usage" : "other") }
            }
            let parts = try context.parts()
            seen.withLock { $0.append("parts \(parts.count)") }
            return .completed(result: nil)
        }
        let job = try fixture.queue.enqueue(JobRequest(kind: "reader"))
        XCTAssertEqual(try fixture.runner(registry).runNext()?.state, .completed)
        XCTAssertEqual(seen.withLock { $0 }, ["25006", "usage", "parts 0"])
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM noop_runs WHERE job_id = $1", [job.id]), 0)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 1)
    }

    func testAWorkerWhoseLeaseWasTakenCanWriteThroughNoHandle() throws {
        let fixture = try QueueFixture()
        let job = try fixture.queue.enqueue(try JobRequest(NoopArguments(steps: 2, record: true)))
        let url = fixture.url
        let seen = Mutex<[String]>([])
        var registry = JobHandlerRegistry()
        registry.register("noop") { context in
            Thread.sleep(forTimeInterval: 0.5)
            // Meanwhile another worker claimed the expired job and finished it.
            _ = try JobRunner(connection: try PostgresConnection(url), workerID: "other", handlers: .noop, leaseSeconds: 30).runNext()
            do {
                try context.read { db in try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 98)", [context.job.id]) }
            } catch let error as PostgresError {
                seen.withLock { $0.append(error.sqlState?.code ?? "none") }
            }
            do {
                try context.batch(progressDone: 1, checkpoint: NoopJobHandler.Checkpoint(step: 1)) { db in
                    try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 99)", [context.job.id])
                }
            } catch let lost as JobLeaseLost {
                seen.withLock { $0.append("lease lost \(lost.jobID)") }
                throw lost
            }
            return .completed(result: nil)
        }
        let result = try XCTUnwrap(try fixture.runner(registry, worker: "stalling", lease: 0.3).runNext())
        XCTAssertNil(result.state, "the stalled worker lost its lease")
        XCTAssertEqual(seen.withLock { $0 }, ["25006", "lease lost \(job.id)"])
        let steps = try fixture.db.query("SELECT step FROM noop_runs ORDER BY step").map { try $0.decode(0, as: Int.self) }
        XCTAssertEqual(steps, [1, 2], "only the worker holding the lease wrote")
        let final = try fixture.job(job.id)
        XCTAssertEqual(final.state, .completed)
        XCTAssertEqual(final.leaseOwner, "other")
        XCTAssertEqual(final.checkpointJSON, #"{"step": 2}"#)
    }
}
