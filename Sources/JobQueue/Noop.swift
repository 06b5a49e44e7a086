import Foundation
import PostgresClient

/// The built-in `noop` kind: does nothing useful, in resumable steps, for smoke tests,
/// benchmarks and the runner's own tests.
///
/// Arguments (all optional): `steps` (default 1; 0 completes at once), `sleep_ms` (time each
/// step's batch takes, inside its transaction), `record` (true: each step inserts
/// `(job_id, step, worker_id, attempt)` into a table `noop_runs` in the step's batch; the
/// table belongs to whoever asks for it, e.g. a test, so that exactly-once can be counted).
/// The checkpoint is `{"step": n}`: a resumed job continues after the last committed step.
public struct NoopJobHandler: JobHandler {
    struct Arguments: Decodable {
        var steps: Int?
        var sleep_ms: Int?
        var record: Bool?
    }

    struct Checkpoint: Codable {
        var step: Int
    }

    public init() {}

    public func run(_ context: JobContext) throws -> JobOutcome {
        let arguments = try context.decodeArguments(Arguments.self)
        let steps = max(0, arguments.steps ?? 1)
        let sleep = Double(max(0, arguments.sleep_ms ?? 0)) / 1000
        let start = try context.decodeCheckpoint(Checkpoint.self)?.step ?? 0
        for step in (start + 1)...max(start + 1, steps) where step <= steps {
            try context.batch(progressDone: Int64(step), progressTotal: Int64(steps),
                              checkpoint: "{\"step\": \(step)}") { connection in
                if arguments.record == true {
                    try connection.execute("INSERT INTO noop_runs (job_id, step, worker_id, attempt) VALUES ($1, $2, $3, $4)",
                                           [context.job.id, step, context.workerID, context.job.attempt])
                }
                if sleep > 0 { Thread.sleep(forTimeInterval: sleep) }
            }
        }
        return .completed(result: "{\"steps\": \(steps)}")
    }
}
