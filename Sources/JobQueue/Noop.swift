import Foundation
import PostgresClient

/// The arguments of the built-in `noop` kind (all optional): `steps` (default 1; 0 completes
/// at once), `sleep_ms` (time each step's batch takes, inside its transaction), `record` (true:
/// each step inserts `(job_id, step, worker_id, attempt)` into a table `noop_runs` in the
/// step's batch; the table belongs to whoever asks for it, e.g. a test, so that exactly-once
/// can be counted).
public struct NoopArguments: JobArguments, Equatable {
    public static let kind = "noop"
    public var steps: Int?
    public var sleepMilliseconds: Int?
    public var record: Bool?

    enum CodingKeys: String, CodingKey {
        case steps, record
        case sleepMilliseconds = "sleep_ms"
    }

    public init(steps: Int? = nil, sleepMilliseconds: Int? = nil, record: Bool? = nil) {
        self.steps = steps
        self.sleepMilliseconds = sleepMilliseconds
        self.record = record
    }
}

/// The built-in `noop` kind: does nothing useful, in resumable steps, for smoke tests,
/// benchmarks and the runner's own tests. The checkpoint is `{"step": n}`: a resumed job
/// continues after the last committed step.
public struct NoopJobHandler: JobHandler {
    public struct Checkpoint: Codable, Sendable, Equatable {
        public var step: Int
        public init(step: Int) { self.step = step }
    }

    public init() {}

    public func run(_ context: JobContext, _ arguments: NoopArguments, _ checkpoint: Checkpoint?) throws -> JobOutcome {
        let steps = max(0, arguments.steps ?? 1)
        let sleep = Double(max(0, arguments.sleepMilliseconds ?? 0)) / 1000
        let start = checkpoint?.step ?? 0
        for step in (start + 1)...max(start + 1, steps) where step <= steps {
            try context.batch(progressDone: Int64(step), progressTotal: Int64(steps), checkpoint: Checkpoint(step: step)) { connection in
                if arguments.record == true {
                    try connection.execute("INSERT INTO noop_runs (job_id, step, worker_id, attempt) VALUES ($1, $2, $3, $4)",
                                           [context.job.id, step, context.workerID, context.job.attempt])
                }
                if sleep > 0 { Thread.sleep(forTimeInterval: sleep) }
            }
        }
        return try .completed(NoopResult(steps: steps))
    }
}

/// What a finished `noop` job reports: `{"steps": n}`.
public struct NoopResult: Codable, Sendable, Equatable {
    public var steps: Int
    public init(steps: Int) { self.steps = steps }
}
