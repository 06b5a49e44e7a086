import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// The read-only statements behind a status report. Each is parameterized, touches indexed
/// or small tables, and runs inside the reporter's read-only transaction.
enum StatusQueries {
    /// A top-level job with its parts' progress summed.
    struct JobRow {
        var id: Int64
        var kind: String
        var state: String
        var desiredState: String?
        var attempt: Int
        var maxAttempts: Int
        var progressDone: Int64
        var progressTotal: Int64?
        var rate: Double?
        var lastError: String?
        var createdAt: Date
        var startedAt: Date?
        var finishedAt: Date?
        var leaseOwner: String?
        var leaseExpiresAt: Date?
        var parts: PartsStatus?
    }

    /// Every active top-level job (at most `activeLimit`) and the `recentLimit` most recently finished.
    static func jobs(_ connection: PostgresConnection, activeLimit: Int, recentLimit: Int) throws -> [JobRow] {
        try connection.query("""
            WITH top AS (
                (SELECT * FROM jobs WHERE parent_id IS NULL AND state IN ('queued', 'running', 'paused')
                  ORDER BY id DESC LIMIT $1)
                UNION ALL
                (SELECT * FROM jobs WHERE parent_id IS NULL AND state IN ('completed', 'failed', 'cancelled')
                  ORDER BY finished_at DESC LIMIT $2))
            SELECT t.id, t.kind, t.state, t.desired_state, t.attempt, t.max_attempts, t.progress_done, t.progress_total,
                   t.rate, t.last_error, t.created_at, t.started_at, t.finished_at, t.lease_owner, t.lease_expires_at,
                   p.n, p.done, p.rate, p.queued, p.running, p.paused, p.completed, p.failed, p.cancelled
              FROM top t
              LEFT JOIN LATERAL (
                  SELECT count(*)::int8 AS n, coalesce(sum(c.progress_done), 0)::int8 AS done,
                         sum(c.rate) FILTER (WHERE c.state = 'running') AS rate,
                         count(*) FILTER (WHERE c.state = 'queued')::int8 AS queued,
                         count(*) FILTER (WHERE c.state = 'running')::int8 AS running,
                         count(*) FILTER (WHERE c.state = 'paused')::int8 AS paused,
                         count(*) FILTER (WHERE c.state = 'completed')::int8 AS completed,
                         count(*) FILTER (WHERE c.state = 'failed')::int8 AS failed,
                         count(*) FILTER (WHERE c.state = 'cancelled')::int8 AS cancelled
                    FROM jobs c WHERE c.parent_id = t.id) p ON true
             ORDER BY (t.state IN ('queued', 'running', 'paused')) DESC, t.id DESC
            """, [activeLimit, recentLimit]).map { row in
            let partCount: Int = try row.decode(15)
            let parts = partCount == 0 ? nil : PartsStatus(
                count: partCount, done: try row.decode(16), queued: try row.decode(18), running: try row.decode(19),
                paused: try row.decode(20), completed: try row.decode(21), failed: try row.decode(22), cancelled: try row.decode(23))
            return JobRow(
                id: try row.decode(0), kind: try row.decode(1), state: try row.decode(2), desiredState: try row.decode(3),
                attempt: try row.decode(4), maxAttempts: try row.decode(5), progressDone: try row.decode(6),
                progressTotal: try row.decode(7), rate: try row.decode(8), lastError: try row.decode(9),
                createdAt: try row.decode(10), startedAt: try row.decode(11), finishedAt: try row.decode(12),
                leaseOwner: try row.decode(13), leaseExpiresAt: try row.decode(14), parts: parts)
        }
    }

    /// Jobs per (kind, state), and the age of the oldest runnable queued job.
    static func queue(_ connection: PostgresConnection) throws -> QueueStatus {
        let counts = try connection.query("SELECT kind, state, count(*)::int8 FROM jobs GROUP BY kind, state ORDER BY kind, state")
            .map { JobCount(kind: try $0.decode(0), state: try $0.decode(1), count: try $0.decode(2)) }
        let oldest: Double? = try connection.query("""
            SELECT extract(epoch FROM now() - min(run_at))::float8 FROM jobs WHERE state = 'queued' AND run_at <= now()
            """)[0].decode(0)
        return QueueStatus(counts: counts, oldestQueuedAgeSeconds: oldest)
    }

    static func workers(_ connection: PostgresConnection, limit: Int) throws -> [WorkerStatus] {
        try connection.query("""
            SELECT id, host, pid, concurrency, started_at, last_heartbeat_at, stopped_at,
                   extract(epoch FROM now() - last_heartbeat_at)::float8
              FROM workers ORDER BY last_heartbeat_at DESC LIMIT $1
            """, [limit]).map { row in
            let stopped: Date? = try row.decode(6)
            let age: Double = try row.decode(7)
            return WorkerStatus(
                id: try row.decode(0), host: try row.decode(1), pid: Int(try row.decode(2) as Int32),
                concurrency: Int(try row.decode(3) as Int32), startedAt: try row.decode(4), lastHeartbeatAt: try row.decode(5),
                stoppedAt: stopped, heartbeatAgeSeconds: age, alive: stopped == nil && age <= WorkerStatus.aliveWithin)
        }
    }

    /// What the audit log and the jobs table say about past rotations.
    struct RotationHistory {
        var lastFinishedAt: Date?
        var lastJobID: Int64?
        var lastRowsPerSecond: Double?
        /// `rewrapped` summed over every `rotation.finished` and `rotation.failed` row.
        var rewrappedOnRecord: Int64
        var activeKEKID: Int32?
        var activeKEKActivatedAt: Date?
        var activeKEKAgeSeconds: Double?
    }

    static func rotationHistory(_ connection: PostgresConnection) throws -> RotationHistory {
        let row = try connection.query("""
            WITH last_audit AS (
                SELECT at, details FROM audit_log WHERE action = $1 ORDER BY at DESC LIMIT 1),
            last_job AS (
                SELECT id, finished_at FROM jobs WHERE kind = $3 AND state = 'completed' ORDER BY finished_at DESC LIMIT 1),
            active AS (
                SELECT id, activated_at FROM keks WHERE state = 'active')
            SELECT greatest((SELECT at FROM last_audit), (SELECT finished_at FROM last_job)),
                   coalesce(CASE WHEN jsonb_typeof((SELECT details FROM last_audit)->'job_id') = 'number'
                                 THEN ((SELECT details FROM last_audit)->>'job_id')::int8 END,
                            (SELECT id FROM last_job)),
                   CASE WHEN jsonb_typeof((SELECT details FROM last_audit)->'rows_per_second') = 'number'
                        THEN ((SELECT details FROM last_audit)->>'rows_per_second')::float8 END,
                   (SELECT coalesce(sum(CASE WHEN jsonb_typeof(details->'rewrapped') = 'number'
                                             THEN (details->>'rewrapped')::numeric ELSE 0 END), 0)::int8
                      FROM audit_log WHERE action = ANY($2::text[])),
                   (SELECT id FROM active), (SELECT activated_at FROM active),
                   (SELECT extract(epoch FROM now() - activated_at)::float8 FROM active)
            """, [AuditAction.rotationFinished.rawValue,
                  PostgresArray([AuditAction.rotationFinished.rawValue, AuditAction.rotationFailed.rawValue]),
                  KeyJobKinds.rotation])[0]
        return RotationHistory(
            lastFinishedAt: try row.decode(0), lastJobID: try row.decode(1), lastRowsPerSecond: try row.decode(2),
            rewrappedOnRecord: try row.decode(3), activeKEKID: try row.decode(4), activeKEKActivatedAt: try row.decode(5),
            activeKEKAgeSeconds: try row.decode(6))
    }

    /// The latest occurrence of each named schedule.
    static func lastOccurrences(_ connection: PostgresConnection, schedules: [String]) throws -> [String: Date] {
        guard !schedules.isEmpty else { return [:] }
        var result: [String: Date] = [:]
        for row in try connection.query("""
            SELECT schedule, max(enqueued_at) FROM job_schedule_runs WHERE schedule = ANY($1::text[]) GROUP BY schedule
            """, [PostgresArray(schedules)]) {
            result[try row.decode(0)] = try row.decode(1)
        }
        return result
    }
}
