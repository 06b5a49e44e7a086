import Foundation
import PostgresClient

/// Totals per job kind since the database was created, for Prometheus counters: they never
/// go down, pruning included (the `job_counters` view adds what deleted rows contributed,
/// kept in `job_counter_archive` by a trigger; migration 070).
public struct JobCounter: Codable, Sendable, Equatable {
    public var kind: String
    /// Jobs ever enqueued of this kind.
    public var jobs: Int64
    /// Jobs that ended `failed`.
    public var failed: Int64
    /// Attempts that ended in a retry (an error with attempts left, or a lost lease).
    public var retries: Int64
    /// Progress units done (rows for rewrap and re-encryption parts).
    public var progress: Int64

    public init(kind: String, jobs: Int64, failed: Int64, retries: Int64, progress: Int64) {
        self.kind = kind
        self.jobs = jobs
        self.failed = failed
        self.retries = retries
        self.progress = progress
    }

    /// Every kind's totals, ordered by kind.
    public static func read(_ connection: PostgresConnection) throws -> [JobCounter] {
        try connection.query("SELECT kind, jobs, failed, retries, progress FROM job_counters ORDER BY kind").map { row in
            JobCounter(kind: try row.decode(0), jobs: try row.decode(1), failed: try row.decode(2), retries: try row.decode(3),
                       progress: try row.decode(4))
        }
    }
}
