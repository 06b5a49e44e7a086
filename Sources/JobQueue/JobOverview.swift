import Foundation
import PostgresClient

/// A top-level job as the status views list it, with its parts counted by state. Progress,
/// rate and ETA are not here: they come from `JobQueue.progress` (the one definition).
public struct TopLevelJob: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var state: JobState
    public var desiredState: JobState?
    public var attempt: Int
    public var maxAttempts: Int
    public var progressDone: Int64
    public var progressTotal: Int64?
    public var lastError: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// Nil for a job without parts.
    public var parts: JobPartCounts?
}

/// How many parts a parent has in each state, and their summed `progress_done`.
public struct JobPartCounts: Codable, Sendable, Equatable {
    public var count: Int
    public var done: Int64
    public var queued: Int
    public var running: Int
    public var paused: Int
    public var completed: Int
    public var failed: Int
    public var cancelled: Int
}

extension JobQueue {
    /// Every active top-level job (at most `activeLimit`, newest first), then the
    /// `recentLimit` most recently finished.
    public func topLevelJobs(activeLimit: Int, recentLimit: Int) throws -> [TopLevelJob] {
        try connection.query("""
            WITH top AS (
                (SELECT * FROM jobs WHERE parent_id IS NULL AND state IN ('queued', 'running', 'paused')
                  ORDER BY id DESC LIMIT $1)
                UNION ALL
                (SELECT * FROM jobs WHERE parent_id IS NULL AND state IN ('completed', 'failed', 'cancelled')
                  ORDER BY finished_at DESC LIMIT $2))
            SELECT t.id, t.kind, t.state, t.desired_state, t.attempt, t.max_attempts, t.progress_done, t.progress_total,
                   t.last_error, t.created_at, t.started_at, t.finished_at, t.lease_owner, t.lease_expires_at,
                   p.n, p.done, p.queued, p.running, p.paused, p.completed, p.failed, p.cancelled
              FROM top t
              LEFT JOIN LATERAL (
                  SELECT count(*)::int8 AS n, coalesce(sum(c.progress_done), 0)::int8 AS done,
                         count(*) FILTER (WHERE c.state = 'queued')::int8 AS queued,
                         count(*) FILTER (WHERE c.state = 'running')::int8 AS running,
                         count(*) FILTER (WHERE c.state = 'paused')::int8 AS paused,
                         count(*) FILTER (WHERE c.state = 'completed')::int8 AS completed,
                         count(*) FILTER (WHERE c.state = 'failed')::int8 AS failed,
                         count(*) FILTER (WHERE c.state = 'cancelled')::int8 AS cancelled
                    FROM jobs c WHERE c.parent_id = t.id) p ON true
             ORDER BY (t.state IN ('queued', 'running', 'paused')) DESC, t.id DESC
            """, [activeLimit, recentLimit]).map { row in
            let partCount: Int = try row.decode(14)
            let parts = partCount == 0 ? nil : JobPartCounts(
                count: partCount, done: try row.decode(15), queued: try row.decode(16), running: try row.decode(17),
                paused: try row.decode(18), completed: try row.decode(19), failed: try row.decode(20), cancelled: try row.decode(21))
            return TopLevelJob(
                id: try row.decode(0), kind: try row.decode(1), state: try row.decodeCase(2), desiredState: try row.decodeCase(3),
                attempt: try row.decode(4), maxAttempts: try row.decode(5), progressDone: try row.decode(6),
                progressTotal: try row.decode(7), lastError: try row.decode(8), createdAt: try row.decode(9),
                startedAt: try row.decode(10), finishedAt: try row.decode(11), leaseOwner: try row.decode(12),
                leaseExpiresAt: try row.decode(13), parts: parts)
        }
    }

    /// Every part of `parentID`, oldest first.
    public func parts(of parentID: Int64) throws -> [Job] {
        try connection.query("SELECT \(Job.columns()) FROM jobs WHERE parent_id = $1 ORDER BY id", [parentID])
            .map(Job.init(row:))
    }

    /// The most recently finished completed job of `kind`, if any.
    public func lastCompleted(kind: String) throws -> (id: Int64, finishedAt: Date)? {
        try connection.query("""
            SELECT id, finished_at FROM jobs WHERE kind = $1 AND state = 'completed' ORDER BY finished_at DESC LIMIT 1
            """, [kind]).first.map { (id: try $0.decode(0), finishedAt: try $0.decode(1)) }
    }
}
