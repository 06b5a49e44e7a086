import Foundation
import PostgresClient

/// The queue's operator API on one connection: enqueue, inspect, cancel, pause, resume,
/// retry, prune. Every statement is parameterized and safe to run beside live workers.
public struct JobQueue {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Enqueues a job, or returns the active job that already holds `request.uniqueKey`.
    /// Runs inside the caller's transaction when one is open (a parent creating children
    /// atomically with its checkpoint); the insert notifies workers at commit.
    @discardableResult
    public func enqueue(_ request: JobRequest) throws -> EnqueuedJob {
        let row = try connection.query(
            "SELECT job_id, inserted FROM kek_enqueue_job($1, $2, $3::int4, $4, $5::int4, $6, $7, $8::int4)",
            [request.kind, PostgresJSON(request.argumentsJSON), request.priority, request.runAt,
             request.maxAttempts, request.uniqueKey, request.parentID, request.maxRunSeconds])[0]
        return EnqueuedJob(id: try row.decode(0), inserted: try row.decode(1))
    }

    /// Enqueues `count` identical jobs without unique keys in one statement.
    @discardableResult
    public func enqueueMany(_ request: JobRequest, count: Int) throws -> Int {
        try connection.execute("""
            INSERT INTO jobs (kind, args, priority, run_at, max_attempts, parent_id, max_run_seconds)
            SELECT $1, $2, $3::int4, coalesce($4, now()), $5::int4, $6, $7::int4 FROM generate_series(1::int8, $8)
            """, [request.kind, PostgresJSON(request.argumentsJSON), request.priority, request.runAt,
                  request.maxAttempts, request.parentID, request.maxRunSeconds, count])
    }

    /// One job, or nil when there is none with that id (never existed, or pruned).
    public func job(_ id: Int64) throws -> Job? {
        try connection.query("SELECT \(Job.columns()) FROM jobs WHERE id = $1", [id]).first.map(Job.init(row:))
    }

    /// Jobs newest first, optionally only some states and one kind.
    public func list(states: [JobState] = [], kind: String? = nil, parentID: Int64? = nil, limit: Int = 50) throws -> [Job] {
        try connection.query("""
            SELECT \(Job.columns()) FROM jobs
             WHERE (cardinality($1::text[]) = 0 OR state = ANY($1::text[]))
               AND ($2::text IS NULL OR kind = $2) AND ($3::int8 IS NULL OR parent_id = $3)
             ORDER BY id DESC LIMIT $4
            """, [PostgresArray(states.map(\.rawValue)), kind, parentID, limit]).map(Job.init(row:))
    }

    /// How many jobs are in each state.
    public func countsByState() throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for row in try connection.query("SELECT state, count(*) FROM jobs GROUP BY state") {
            counts[try row.decodeCase(0, as: JobState.self)] = try row.decode(1)
        }
        return counts
    }

    /// What a control command did to a job.
    public enum ControlOutcome: Sendable, Equatable {
        /// The job moved to this state now.
        case changed(JobState)
        /// The job is running: it was asked to stop, and will at its next batch boundary.
        case requested(JobState)
        /// Nothing to do: the job is in this state.
        case unchanged(JobState)
        case notFound
    }

    /// Cancels a queued or paused job at once; a running job is asked to stop at its next
    /// batch boundary with a clean checkpoint. A cancelled job never runs again unless retried.
    /// Pause, resume and cancel act on the job and on its parts (`parent_id`) in one
    /// statement: a parent's parts run on other workers and would otherwise go on.
    public func cancel(_ id: Int64) throws -> ControlOutcome {
        try control(id, """
            UPDATE jobs SET
                state = CASE WHEN state = 'running' THEN state ELSE 'cancelled' END,
                desired_state = CASE WHEN state = 'running' THEN 'cancelled' END,
                finished_at = CASE WHEN state = 'running' THEN NULL ELSE now() END,
                updated_at = now()
             WHERE (id = $1 OR parent_id = $1) AND state IN ('queued', 'paused', 'running')
             RETURNING id, state, desired_state
            """)
    }

    /// Pauses a queued job at once; a running job is asked to pause at its next batch boundary.
    public func pause(_ id: Int64) throws -> ControlOutcome {
        try control(id, """
            UPDATE jobs SET
                state = CASE WHEN state = 'running' THEN state ELSE 'paused' END,
                desired_state = CASE WHEN state = 'running' THEN 'paused' END,
                updated_at = now()
             WHERE (id = $1 OR parent_id = $1) AND (state = 'queued' OR (state = 'running' AND desired_state IS NULL))
             RETURNING id, state, desired_state
            """)
    }

    /// Queues a paused job again (it continues from its checkpoint), or withdraws a pause
    /// request that a running job has not reached yet.
    public func resume(_ id: Int64) throws -> ControlOutcome {
        try control(id, """
            UPDATE jobs SET
                state = CASE WHEN state = 'running' THEN state ELSE 'queued' END,
                run_at = CASE WHEN state = 'running' THEN run_at ELSE now() END,
                desired_state = NULL,
                updated_at = now()
             WHERE (id = $1 OR parent_id = $1) AND (state = 'paused' OR (state = 'running' AND desired_state = 'paused'))
             RETURNING id, state, desired_state
            """)
    }

    /// Queues a failed or cancelled job again with its attempts reset; it continues from its
    /// last checkpoint. Refused (unique violation) while another active job holds its unique key.
    public func retry(_ id: Int64) throws -> ControlOutcome {
        try control(id, """
            UPDATE jobs SET state = 'queued', attempt = 0, counted_hand_backs = 0, run_at = now(), finished_at = NULL,
                            desired_state = NULL, updated_at = now()
             WHERE id = $1 AND state IN ('failed', 'cancelled')
             RETURNING id, state, desired_state
            """)
    }

    private func control(_ id: Int64, _ sql: String) throws -> ControlOutcome {
        // The job's own row says what happened to it; its parts' rows only follow it.
        if let row = try connection.query(sql, [id]).first(where: { (try? $0.decode(0, as: Int64.self)) == id }) {
            let state: JobState = try row.decodeCase(1)
            if let desired = try row.decodeCase(2, as: JobState?.self) {
                return .requested(desired)
            }
            return .changed(state)
        }
        guard let job = try job(id) else { return .notFound }
        return .unchanged(job.state)
    }

    /// Deletes finished jobs older than `retention`, at most `limit` per call so that the
    /// delete stays a short transaction; returns how many it deleted.
    @discardableResult
    public func pruneFinished(olderThan retention: TimeInterval, limit: Int = 5000) throws -> Int {
        try connection.execute("""
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs
                 WHERE state IN ('completed', 'failed', 'cancelled')
                   AND finished_at < now() - make_interval(secs => $1)
                 ORDER BY finished_at LIMIT $2)
            """, [retention, limit])
    }
}
