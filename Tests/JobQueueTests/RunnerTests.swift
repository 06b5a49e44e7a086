import Foundation
import JobQueue
import PostgresClient
import TestSupport
import XCTest

/// Leases, fenced checkpoints, retries, stops at batch boundaries.
final class JobQueueRunnerTests: XCTestCase {
    func testLateCheckpointAfterLeaseExpiryIsRefusedAndItsWorkRolledBack() throws {
        let fixture = try QueueFixture()
        let job = try fixture.queue.enqueue(JobRequest(kind: "noop", argumentsJSON: #"{"steps": 3}"#))
        let zombieConnection = try PostgresConnection(fixture.url)
        let zombie = try XCTUnwrap(try JobClaim.next(on: zombieConnection, workerID: "zombie", kinds: ["noop"], leaseSeconds: 0.2))
        Thread.sleep(forTimeInterval: 0.4)

        // The same claim statement picks the expired job up again, with a new token.
        let rescuer = try XCTUnwrap(try JobClaim.next(on: fixture.db, workerID: "rescuer", kinds: ["noop"], leaseSeconds: 30))
        XCTAssertEqual(rescuer.job.id, job.id)
        XCTAssertEqual(rescuer.job.attempt, 2)
        XCTAssertNotEqual(rescuer.lease.token, zombie.lease.token)

        // The zombie's batch (a row of work and a child job) is rolled back with its checkpoint.
        XCTAssertThrowsError(try zombieConnection.transaction {
            try zombieConnection.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 1)", [job.id])
            try JobQueue(connection: zombieConnection).enqueue(JobRequest(kind: "noop", parentID: job.id))
            try zombie.lease.renew(on: zombieConnection)
        }) { XCTAssertTrue($0 is JobLeaseLost, "\($0)") }
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM noop_runs"), 0)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 1)
        XCTAssertEqual(try fixture.job(job.id).leaseOwner, "rescuer")
    }

    func testZombieBatchThroughJobContextIsRefused() throws {
        let fixture = try QueueFixture()
        let job = try fixture.queue.enqueue(JobRequest(kind: "noop", argumentsJSON: #"{"steps": 4, "record": true}"#))
        // A handler that stalls past its lease after one step, as a frozen worker would.
        var registry = JobHandlerRegistry()
        let url = fixture.url
        registry.register("noop") { context in
            try context.batch(progressDone: 1, checkpoint: NoopJobHandler.Checkpoint(step: 1)) { db in
                try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 1)", [context.job.id])
            }
            Thread.sleep(forTimeInterval: 0.5)
            // Meanwhile another worker claimed the expired job and finished it.
            let other = JobRunner(connection: try PostgresConnection(url), workerID: "other",
                                  handlers: .noop, leaseSeconds: 30)
            _ = try other.runNext()
            try context.batch(progressDone: 2, checkpoint: NoopJobHandler.Checkpoint(step: 2)) { db in
                try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, 99)", [context.job.id])
            }
            return .completed(result: nil)
        }
        let events = RecordedEvents()
        let runner = try fixture.runner(registry, worker: "stalling", lease: 0.3, events: events)
        let result = try XCTUnwrap(try runner.runNext())
        XCTAssertNil(result.state, "the stalled worker lost its lease")
        XCTAssertEqual(events.names(for: job.id), ["claimed", "lease_lost"])
        let final = try fixture.job(job.id)
        XCTAssertEqual(final.state, .completed)
        XCTAssertEqual(final.progressDone, 4)
        XCTAssertEqual(final.checkpointJSON, #"{"step": 4}"#)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM noop_runs WHERE step = 99"), 0)
        let steps = try fixture.db.query("SELECT step FROM noop_runs ORDER BY step").map { try $0.decode(0, as: Int.self) }
        XCTAssertEqual(steps, [1, 2, 3, 4], "step 1 from the first worker, the rest resumed from its checkpoint")
    }

    func testErrorsRetryWithBackoffThenFailKeepingTheLastError() throws {
        let fixture = try QueueFixture()
        var registry = JobHandlerRegistry()
        registry.register("fail") { context in
            try context.batch(progressDone: 0) { db in
                try db.execute("INSERT INTO noop_runs (job_id, attempt) VALUES ($1, $2)", [context.job.id, context.job.attempt])
            }
            throw TestFailure(description: "upstream said no (attempt \(context.job.attempt))")
        }
        let job = try fixture.queue.enqueue(JobRequest(kind: "fail", maxAttempts: 4))
        let events = RecordedEvents()
        let runner = try fixture.runner(registry, retry: RetryPolicy(base: 0.1, maximum: 10), events: events)
        var states: [JobState?] = []
        while states.count < 4 {
            if let result = try runner.runNext() { states.append(result.state) } else { Thread.sleep(forTimeInterval: 0.01) }
        }
        XCTAssertEqual(states, [.queued, .queued, .queued, .failed])
        let final = try fixture.job(job.id)
        XCTAssertEqual(final.attempt, 4)
        XCTAssertEqual(final.lastError, "upstream said no (attempt 4)")
        XCTAssertNotNil(final.finishedAt)
        // Waits grow: attempt n waits at least base * 2^(n-1) / 2.
        let times = try fixture.db.query("SELECT extract(epoch FROM at)::float8 FROM noop_runs ORDER BY attempt")
            .map { try $0.decode(0, as: Double.self) }
        for n in 1..<times.count {
            XCTAssertGreaterThanOrEqual(times[n] - times[n - 1], 0.1 * pow(2, Double(n - 1)) / 2 - 0.01, "gap \(n)")
        }
        XCTAssertEqual(events.names(for: job.id).filter { $0 == "retrying" }.count, 3)
    }

    /// A job that failed once and then completed shows no error as current (the earlier one
    /// is in its attempt history) and, finished, a rate of its units over its run time.
    func testCompletedJobKeepsEarlierErrorsAsHistoryAndReportsRowsOverRunTime() throws {
        let fixture = try QueueFixture()
        var registry = JobHandlerRegistry()
        registry.register("flaky") { context in
            guard context.job.attempt > 1 else { throw TestFailure(description: "first attempt fails") }
            try context.batch(progressDone: 500) { _ in }
            return .completed(result: nil)
        }
        let job = try fixture.queue.enqueue(JobRequest(kind: "flaky", maxAttempts: 3))
        let runner = try fixture.runner(registry, retry: RetryPolicy(base: 0.05, maximum: 1))
        var states: [JobState?] = []
        while states.count < 2 {
            if let result = try runner.runNext() { states.append(result.state) } else { Thread.sleep(forTimeInterval: 0.01) }
        }
        XCTAssertEqual(states, [.queued, .completed])
        let final = try fixture.job(job.id)
        XCTAssertNil(final.lastError)
        XCTAssertTrue(final.attemptErrorsJSON.contains("first attempt fails"), final.attemptErrorsJSON)
        let progress = try XCTUnwrap(try fixture.queue.progress(job.id))
        XCTAssertEqual(progress.state, .completed)
        XCTAssertEqual(progress.done, 500)
        let runTime = try XCTUnwrap(final.finishedAt).timeIntervalSince(try XCTUnwrap(final.startedAt))
        XCTAssertEqual(try XCTUnwrap(progress.rate), 500 / runTime, accuracy: 500 / runTime * 0.01)
        XCTAssertNil(progress.etaSeconds)
    }

    /// A claim samples its family's progress at its first checkpoint and then at most once a
    /// second, not at every batch: the bound is read from the run's own measured length, so a
    /// slow machine only allows more samples, never fails the test.
    func testAClaimSamplesProgressAtMostOnceASecond() throws {
        let fixture = try QueueFixture()
        var registry = JobHandlerRegistry()
        registry.register("many_batches") { context in
            for done in 1...40 { try context.batch(progressDone: Int64(done)) { _ in } }
            return .completed(result: nil)
        }
        let job = try fixture.queue.enqueue(JobRequest(kind: "many_batches"))
        let started = Date()
        XCTAssertEqual(try fixture.runner(registry).runNext()?.state, .completed)
        let elapsed = Date().timeIntervalSince(started)
        let samples = try fixture.count("SELECT count(*) FROM job_progress_samples WHERE job_id = $1", [job.id])
        XCTAssertGreaterThanOrEqual(samples, 1, "the first checkpoint samples")
        XCTAssertLessThanOrEqual(samples, 1 + Int(elapsed), "40 checkpoints in \(elapsed) s")
        XCTAssertEqual(try fixture.queue.progress(job.id)?.done, 40, "progress itself is read live, not from samples")

        // And a claim whose batches are more than a second apart samples each of them.
        registry.register("slow_batches") { context in
            try context.batch(progressDone: 1) { _ in }
            Thread.sleep(forTimeInterval: 1.1)
            try context.batch(progressDone: 2) { _ in }
            return .completed(result: nil)
        }
        let slow = try fixture.queue.enqueue(JobRequest(kind: "slow_batches"))
        XCTAssertEqual(try fixture.runner(registry).runNext()?.state, .completed)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM job_progress_samples WHERE job_id = $1", [slow.id]), 2)
    }

    func testPermanentErrorFailsAtOnce() throws {
        let fixture = try QueueFixture()
        var registry = JobHandlerRegistry()
        registry.register("fail") { _ in throw PermanentJobError("argument 'table' names no table; fix the job file") }
        let job = try fixture.queue.enqueue(JobRequest(kind: "fail", maxAttempts: 10))
        let runner = try fixture.runner(registry)
        XCTAssertEqual(try runner.runNext()?.state, .failed)
        XCTAssertEqual(try fixture.job(job.id).attempt, 1)
        XCTAssertEqual(try fixture.job(job.id).lastError, "argument 'table' names no table; fix the job file")
        // Bad arguments are permanent too.
        let bad = try fixture.queue.enqueue(JobRequest(kind: "noop", argumentsJSON: #"{"steps": "many"}"#))
        XCTAssertEqual(try fixture.runner(.noop).runNext()?.state, .failed)
        XCTAssertEqual(try fixture.job(bad.id).lastError,
                       "job \(bad.id) (noop): arguments cannot be decoded as NoopArguments: 'steps' is not Int")
        XCTAssertEqual(try fixture.job(bad.id).attempt, 1)
    }

    func testPauseAndCancelStopARunningJobAtABatchBoundary() throws {
        let fixture = try QueueFixture()
        let url = fixture.url
        var registry = JobHandlerRegistry()
        registry.register(StepsHandler(url: url))
        let paused = try fixture.queue.enqueue(try JobRequest(StepsHandler.Arguments(action: "pause")))
        let runner = try fixture.runner(registry)
        XCTAssertEqual(try runner.runNext()?.state, .paused)
        var job = try fixture.job(paused.id)
        XCTAssertEqual(job.progressDone, 3)
        XCTAssertEqual(job.attempt, 0, "a pause burns no attempt")
        XCTAssertNil(job.desiredState)
        XCTAssertNil(try runner.runNext(), "a paused job is not claimed")
        XCTAssertEqual(try fixture.queue.resume(paused.id), .changed(.queued))
        XCTAssertEqual(try runner.runNext()?.state, .completed)
        job = try fixture.job(paused.id)
        XCTAssertEqual(job.progressDone, 6)
        XCTAssertNotNil(job.rate)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM noop_runs WHERE job_id = $1", [paused.id]), 6)
        XCTAssertEqual(try fixture.count("SELECT count(DISTINCT step) FROM noop_runs WHERE job_id = $1", [paused.id]), 6)

        let cancelled = try fixture.queue.enqueue(try JobRequest(StepsHandler.Arguments(action: "cancel")))
        XCTAssertEqual(try runner.runNext()?.state, .cancelled)
        XCTAssertEqual(try fixture.job(cancelled.id).progressDone, 3)
        XCTAssertNil(try runner.runNext())
    }

    func testSnoozeRequeuesWithoutBurningAnAttemptAndChildrenCommitWithTheBatch() throws {
        let fixture = try QueueFixture()
        var registry = JobHandlerRegistry.noop
        // A parent that splits itself into two parts, then waits for them.
        registry.register("parent") { context in
            if context.job.checkpointJSON == nil {
                try context.batch(progressDone: 0, progressTotal: 2, checkpoint: ["split": true]) { _ in
                    try context.enqueueChild(JobRequest(kind: "noop"))
                    try context.enqueueChild(JobRequest(kind: "noop"))
                }
            }
            let done = try context.parts().filter { $0.state == .completed }.count
            guard done == 2 else { return .snooze(seconds: 0) }
            return .completed(result: #"{"parts": 2}"#)
        }
        let parent = try fixture.queue.enqueue(JobRequest(kind: "parent", maxAttempts: 1))
        let runner = try fixture.runner(registry)
        var runs = 0
        while try fixture.job(parent.id).state != .completed, runs < 10 {
            _ = try runner.runNext()
            runs += 1
        }
        let job = try fixture.job(parent.id)
        XCTAssertEqual(job.state, .completed)
        XCTAssertEqual(job.resultJSON, #"{"parts": 2}"#)
        XCTAssertEqual(job.attempt, 1, "snoozes burn no attempt (max_attempts 1 was never exceeded)")
        XCTAssertEqual(try fixture.queue.list(parentID: parent.id).count, 2)
    }
}

/// Steps 1...6, each a batch recording its step; at step 3 of the first attempt an operator
/// (another connection) pauses or cancels the job, as `action` says.
struct StepsHandler: JobHandler {
    struct Arguments: JobArguments {
        static let kind = "steps"
        var action: String
    }
    let url: String

    func run(_ context: JobContext, _ arguments: Arguments, _ checkpoint: NoopJobHandler.Checkpoint?) throws -> JobOutcome {
        for step in ((checkpoint?.step ?? 0) + 1)...6 {
            try context.batch(progressDone: Int64(step), progressTotal: 6, checkpoint: NoopJobHandler.Checkpoint(step: step)) { db in
                try db.execute("INSERT INTO noop_runs (job_id, step) VALUES ($1, $2)", [context.job.id, step])
                if step == 3, context.job.attempt == 1 {
                    let queue = JobQueue(connection: try PostgresConnection(url))
                    _ = arguments.action == "pause" ? try queue.pause(context.job.id) : try queue.cancel(context.job.id)
                }
            }
        }
        return .completed(result: nil)
    }
}
