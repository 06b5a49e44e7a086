import Foundation
import JobQueue
import PostgresClient
import Synchronization
import XCTest

/// Enqueue, unique keys, control commands, claim order and the claim's index.
final class JobQueueTests: XCTestCase {
    func testUniqueKeyReturnsTheActiveJobEvenUnderConcurrentEnqueues() throws {
        let fixture = try QueueFixture()
        let url = fixture.url
        let ids = Mutex<[EnqueuedJob]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let connection = try! PostgresConnection(url)
            let job = try! JobQueue(connection: connection).enqueue(JobRequest(kind: "noop", uniqueKey: "only-one"))
            ids.withLock { $0.append(job) }
        }
        let results = ids.withLock { $0 }
        XCTAssertEqual(Set(results.map(\.id)).count, 1)
        XCTAssertEqual(results.filter(\.inserted).count, 1)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 1)

        // Once the holder finished, the key is free again.
        let runner = try fixture.runner(.noop)
        XCTAssertEqual(try runner.runNext()?.state, .completed)
        let again = try fixture.queue.enqueue(JobRequest(kind: "noop", uniqueKey: "only-one"))
        XCTAssertTrue(again.inserted)
        XCTAssertNotEqual(again.id, results[0].id)
    }

    func testClaimOrderIsPriorityThenDueTimeAndFutureJobsWait() throws {
        let fixture = try QueueFixture()
        let queue = fixture.queue
        let late = try queue.enqueue(JobRequest(kind: "noop", priority: 5))
        let urgent = try queue.enqueue(JobRequest(kind: "noop", priority: -1))
        let future = try queue.enqueue(JobRequest(kind: "noop", priority: -9, runAt: Date().addingTimeInterval(3600)))
        let other = try queue.enqueue(JobRequest(kind: "unregistered"))
        let runner = try fixture.runner(.noop)
        XCTAssertEqual(try runner.runNext()?.jobID, urgent.id)
        XCTAssertEqual(try runner.runNext()?.jobID, late.id)
        XCTAssertNil(try runner.runNext(), "a future job and a kind without handler are not claimed")
        XCTAssertEqual(try fixture.job(future.id).state, .queued)
        XCTAssertEqual(try fixture.job(other.id).state, .queued)
    }

    func testCancelledJobNeverRunsAndRetryQueuesItAgainWithAttemptsReset() throws {
        let fixture = try QueueFixture()
        let job = try fixture.queue.enqueue(JobRequest(kind: "noop"))
        XCTAssertEqual(try fixture.queue.cancel(job.id), .changed(.cancelled))
        XCTAssertEqual(try fixture.queue.cancel(job.id), .unchanged(.cancelled))
        let runner = try fixture.runner(.noop)
        XCTAssertNil(try runner.runNext())
        XCTAssertEqual(try fixture.job(job.id).attempt, 0)
        XCTAssertEqual(try fixture.queue.retry(job.id), .changed(.queued))
        XCTAssertEqual(try runner.runNext()?.state, .completed)
        XCTAssertEqual(try fixture.queue.cancel(12345), .notFound)
    }

    func testPauseResumeAndCancelOfAParentReachItsParts() throws {
        let fixture = try QueueFixture()
        let queue = fixture.queue
        let parent = try queue.enqueue(JobRequest(kind: "noop"))
        let waiting = try queue.enqueue(JobRequest(kind: "noop", parentID: parent.id))
        let running = try queue.enqueue(JobRequest(kind: "noop", parentID: parent.id))
        try fixture.db.execute("UPDATE jobs SET state = 'running', lease_token = gen_random_uuid() WHERE id = $1", [running.id])
        XCTAssertEqual(try queue.pause(parent.id), .changed(.paused))
        XCTAssertEqual(try fixture.job(waiting.id).state, .paused)
        XCTAssertEqual(try fixture.job(running.id).desiredState, .paused, "a running part stops at its next batch")
        XCTAssertEqual(try queue.resume(parent.id), .changed(.queued))
        XCTAssertEqual(try fixture.job(waiting.id).state, .queued)
        XCTAssertNil(try fixture.job(running.id).desiredState)
        XCTAssertEqual(try queue.cancel(parent.id), .changed(.cancelled))
        XCTAssertEqual(try fixture.job(waiting.id).state, .cancelled)
        XCTAssertEqual(try fixture.job(running.id).desiredState, .cancelled)
    }

    func testPausedQueuedJobWaitsUntilResumed() throws {
        let fixture = try QueueFixture()
        let job = try fixture.queue.enqueue(JobRequest(kind: "noop"))
        XCTAssertEqual(try fixture.queue.pause(job.id), .changed(.paused))
        let runner = try fixture.runner(.noop)
        XCTAssertNil(try runner.runNext())
        XCTAssertEqual(try fixture.queue.resume(job.id), .changed(.queued))
        XCTAssertEqual(try runner.runNext()?.state, .completed)
    }

    func testClaimUsesThePartialIndexWith100kFinishedJobs() throws {
        let fixture = try QueueFixture()
        try fixture.db.execute("""
            INSERT INTO jobs (kind, state, attempt, finished_at, progress_done)
            SELECT 'noop', 'completed', 1, now() - make_interval(days => 1), 1 FROM generate_series(1, 100000)
            """)
        try fixture.queue.enqueueMany(JobRequest(kind: "noop"), count: 10)
        try fixture.db.execute("ANALYZE jobs")
        // The claim's runnable-candidate query, as written in kek_claim_job.
        let plan = try fixture.db.query("""
            EXPLAIN SELECT id, priority, run_at AS due FROM jobs
             WHERE state = 'queued' AND run_at <= now() AND kind = ANY ($1)
             ORDER BY priority, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
            """, [PostgresArray(["noop"])]).map { try $0.decode(0, as: String.self) }
            .joined(separator: "\n")
        XCTAssertTrue(plan.contains("jobs_runnable"), plan)
        let runner = try fixture.runner(.noop)
        let started = Date()
        for _ in 0..<10 { XCTAssertEqual(try runner.runNext()?.state, .completed) }
        let perJob = Date().timeIntervalSince(started) / 10
        print("claim+complete with 100k finished jobs in the table: \(String(format: "%.2f", perJob * 1000)) ms per job")
        XCTAssertLessThan(perJob, 0.05)

        // Pruning removes finished jobs past retention, in bounded chunks.
        XCTAssertEqual(try fixture.queue.pruneFinished(olderThan: 3600, limit: 60000), 60000)
        XCTAssertEqual(try fixture.queue.pruneFinished(olderThan: 3600, limit: 60000), 40000)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 10, "recently finished jobs are kept")
    }
}
