import Foundation
import PostgresClient

/// Claims one job and carries it to its next state on one connection: the body of a worker
/// loop, usable on its own in tests and tools (`runNext()` is synchronous and deterministic).
public final class JobRunner {
    public let connection: PostgresConnection
    public let workerID: String
    let handlers: JobHandlerRegistry
    let events: (any JobEventSink)?
    let stop: StopSignal
    let leaseSeconds: Double
    let retry: RetryPolicy
    let limits: BatchLimits

    /// What happened to the job `runNext()` claimed.
    public struct Result: Sendable, Equatable {
        public var jobID: Int64
        public var kind: String
        /// The job's state after this run; nil when the lease was lost (another worker owns it).
        public var state: JobState?
    }

    public init(connection: PostgresConnection, workerID: String, handlers: JobHandlerRegistry,
                events: (any JobEventSink)? = nil, stop: StopSignal = StopSignal(), leaseSeconds: Double = 30,
                retry: RetryPolicy = RetryPolicy(), limits: BatchLimits = BatchLimits()) {
        self.connection = connection
        self.workerID = workerID
        self.handlers = handlers
        self.events = events
        self.stop = stop
        self.leaseSeconds = leaseSeconds
        self.retry = retry
        self.limits = limits
    }

    /// Claims the next runnable job of a registered kind and runs it; nil when none is runnable.
    /// Database errors outside the handler (claim, final write) are thrown for the loop to log.
    public func runNext() throws -> Result? {
        let kinds = try handlers.claimableKinds(connection, announce: announce)
        guard !kinds.isEmpty, let claimed = try JobClaim.next(on: connection, workerID: workerID, kinds: kinds,
                                                              leaseSeconds: leaseSeconds) else { return nil }
        let job = claimed.job
        emit("claimed", job)
        do {
            let state = try carry(claimed)
            return Result(jobID: job.id, kind: job.kind, state: state)
        } catch let lost as JobLeaseLost {
            rollbackIfOpen()
            emit("lease_lost", job, message: lost.description)
            return Result(jobID: job.id, kind: job.kind, state: nil)
        }
    }

    private func carry(_ claimed: ClaimedJob) throws -> JobState {
        let job = claimed.job
        let lease = claimed.lease
        if job.attempt > job.maxAttempts {
            let message = "no attempts left (max_attempts \(job.maxAttempts)): the worker running attempt "
                + "\(job.attempt - 1) stopped renewing its lease (killed or frozen?)"
            try lease.fail(on: connection, error: message)
            emit("failed", job, message: message)
            return .failed
        }
        if job.desiredState != nil {
            return try release(lease, job, progress: job.progressDone)
        }
        guard let handler = handlers.handler(for: job.kind) else {
            try lease.fail(on: connection, error: "no handler for kind '\(job.kind)' in worker \(workerID)")
            return .failed
        }
        let context = JobContext(claimed: claimed, connection: connection, workerID: workerID, stop: stop, limits: limits)
        let started = Date()
        func elapsed() -> Int { Int(Date().timeIntervalSince(started) * 1000) }
        do {
            let outcome = try handler.run(context)
            rollbackIfOpen()
            switch outcome {
            case .completed(let result):
                try lease.complete(on: connection, resultJSON: result)
                emit("completed", context.job, duration: elapsed())
                return .completed
            case .snooze(let seconds):
                try lease.snooze(on: connection, seconds: seconds)
                emit("snoozed", context.job, message: "again in \(seconds)s", duration: elapsed())
                return .queued
            }
        } catch is JobStopRequested {
            rollbackIfOpen()
            return try release(lease, context.job, progress: context.job.progressDone)
        } catch let notHere as JobNotRunnableHere {
            rollbackIfOpen()
            try lease.handBack(on: connection)
            emit("handed_back", context.job, message: notHere.description, duration: elapsed())
            handlers.gate(for: job.kind)?.close(reason: notHere.reason, announce: announce)
            return .queued
        } catch let lost as JobLeaseLost {
            throw lost
        } catch {
            rollbackIfOpen()
            let message = Self.describe(error)
            if error is PermanentJobError || job.attempt >= job.maxAttempts {
                try lease.fail(on: connection, error: message)
                emit("failed", context.job, message: message, duration: elapsed())
                return .failed
            }
            let delay = retry.delay(afterAttempt: job.attempt)
            try lease.retry(on: connection, after: delay, error: message)
            emit("retrying", context.job, message: String(format: "in %.1fs: ", delay) + message, duration: elapsed())
            return .queued
        }
    }

    private func release(_ lease: JobLease, _ job: Job, progress: Int64) throws -> JobState {
        let state = try lease.release(on: connection)
        emit(state == .queued ? "released" : state.rawValue, job)
        return state
    }

    private func rollbackIfOpen() {
        if connection.inTransaction { _ = try? connection.execute("ROLLBACK") }
    }

    /// An error as operators read it, bounded in length.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 2000 ? String(text.prefix(2000)) + "…" : text
    }

    private func announce(_ event: String, _ message: String) {
        events?.record(JobEvent(event: event, workerID: workerID, message: message))
    }

    private func emit(_ event: String, _ job: Job, message: String? = nil, duration: Int? = nil) {
        events?.record(JobEvent(event: event, workerID: workerID, jobID: job.id, kind: job.kind, attempt: job.attempt,
                                progressDone: job.progressDone, progressTotal: job.progressTotal, message: message,
                                durationMilliseconds: duration))
    }
}
