import Foundation
import PostgresClient

/// A job's progress as every view shows it (`kek status`, `kek jobs`, `kek rotate --wait`,
/// /status, /metrics): computed in one place, `kek_job_progress` in sql/032_job_progress.sql,
/// so that at one moment they all say the same.
public struct JobProgressSummary: Sendable, Equatable {
    public var jobID: Int64
    /// The job's state, except that a parent waiting for parts that are running or queued is `running`.
    public var state: JobState
    /// Units done: the job's own progress or its parts' summed, whichever is higher.
    public var done: Int64
    public var total: Int64?
    /// While active: units per second over the last `JobProgressSummary.window` seconds; 0
    /// while paused; once finished: done over the time from first claim to the end.
    public var rate: Double?
    /// Seconds left at `rate` while active and moving.
    public var etaSeconds: Double?

    /// The recent window the rate of an active job is measured over.
    public static let window: Double = 10

    /// `done / total` in [0, 1]; nil without a total.
    public var ratio: Double? {
        total.map { $0 > 0 ? min(1, Double(done) / Double($0)) : (state.isFinished ? 1 : 0) }
    }
}

extension JobQueue {
    /// The progress of each job in `ids` that exists, by id.
    public func progress(_ ids: [Int64]) throws -> [Int64: JobProgressSummary] {
        guard !ids.isEmpty else { return [:] }
        var summaries: [Int64: JobProgressSummary] = [:]
        for row in try connection.query("SELECT job_id, state, done, total, rate, eta_seconds FROM kek_job_progress($1::int8[], $2)",
                                        [PostgresArray(ids), JobProgressSummary.window]) {
            let id: Int64 = try row.decode(0)
            summaries[id] = JobProgressSummary(
                jobID: id, state: try row.decodeCase(1), done: try row.decode(2),
                total: try row.decode(3), rate: try row.decode(4), etaSeconds: try row.decode(5))
        }
        return summaries
    }

    /// The progress of one job, or nil when there is none with that id.
    public func progress(_ id: Int64) throws -> JobProgressSummary? { try progress([id])[id] }
}
