import Foundation
import PostgresClient

/// The right to write for one claim of one job. Every write the runner makes for a job
/// (renewal, checkpoint, completion, retry, failure, release) carries
/// `WHERE id = $id AND lease_token = $token AND state = 'running'`: when another worker has
/// since claimed the job, nothing matches and the write is refused. That is what makes a
/// frozen worker that wakes up (a zombie) harmless.
public struct JobLease: Sendable, Equatable {
    public var jobID: Int64
    public var token: UUID
    /// How long each renewal extends the lease.
    public var seconds: Double

    static let fence = "id = $1 AND lease_token = $2 AND state = 'running'"

    /// Extends the lease by `seconds` from now; returns the operator's `desired_state`.
    /// Throws `JobLeaseLost` when the lease is no longer ours.
    @discardableResult
    public func renew(on connection: PostgresConnection) throws -> JobState? {
        let rows = try connection.query("""
            UPDATE jobs SET lease_expires_at = clock_timestamp() + make_interval(secs => $3)
             WHERE \(Self.fence) RETURNING desired_state
            """, [jobID, token, seconds])
        return try desiredState(rows)
    }

    /// Records a checkpoint, renews the lease and updates the rate, in the caller's transaction;
    /// with `sample`, also the family's progress sample (`kek_job_sample`, what the rate over
    /// the last seconds is read from). The `rate` column is an EWMA (weight 0.3) of progress per
    /// second since the previous checkpoint.
    func checkpoint(on connection: PostgresConnection, progressDone: Int64, progressTotal: Int64?,
                    checkpointJSON: String?, sample: Bool) throws -> JobState? {
        let rows = try connection.query("""
            UPDATE jobs SET
                progress_done = $3,
                progress_total = coalesce($4, progress_total),
                checkpoint = coalesce($5, checkpoint),
                rate = CASE WHEN $3 < progress_done THEN rate ELSE
                    (($3 - progress_done) / greatest(extract(epoch FROM clock_timestamp()
                        - coalesce(checkpointed_at, attempted_at))::float8, 0.001))
                    * CASE WHEN rate IS NULL THEN 1.0::float8 ELSE 0.3::float8 END + coalesce(rate, 0) * 0.7::float8 END,
                checkpointed_at = clock_timestamp(),
                lease_expires_at = clock_timestamp() + make_interval(secs => $6),
                updated_at = now()
             WHERE \(Self.fence) RETURNING desired_state
            """, [jobID, token, progressDone, progressTotal, checkpointJSON.map(PostgresJSON.init), seconds])
        let desired = try desiredState(rows)
        if sample { try connection.execute("SELECT kek_job_sample($1)", [jobID]) }
        return desired
    }

    /// Marks the job completed with an optional JSON result. Errors of earlier attempts stay
    /// in `attempt_errors`; none is shown as the job's current error any more.
    func complete(on connection: PostgresConnection, resultJSON: String?) throws {
        try fenced(connection, """
            UPDATE jobs SET state = 'completed', result = $3, finished_at = now(), desired_state = NULL, last_error = NULL,
                            lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence)
            """, [resultJSON.map(PostgresJSON.init)])
    }

    /// Queues the job again after `delay` seconds, keeping the error for operators.
    func retry(on connection: PostgresConnection, after delay: Double, error: String) throws {
        try fenced(connection, """
            UPDATE jobs SET state = 'queued', run_at = now() + make_interval(secs => $3), last_error = $4,
                            attempt_errors = \(Self.appendError("$4")),
                            lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence)
            """, [delay, error])
    }

    /// Fails the job for good, keeping the error for operators.
    func fail(on connection: PostgresConnection, error: String) throws {
        try fenced(connection, """
            UPDATE jobs SET state = 'failed', last_error = $3, finished_at = now(), desired_state = NULL,
                            attempt_errors = \(Self.appendError("$3")),
                            lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence)
            """, [error])
    }

    /// Queues the job again after `delay` seconds without counting this attempt.
    func snooze(on connection: PostgresConnection, seconds delay: Double) throws {
        try fenced(connection, """
            UPDATE jobs SET state = 'queued', run_at = now() + make_interval(secs => $3), attempt = attempt - 1,
                            lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence)
            """, [delay])
    }

    /// Stops the job at its last checkpoint: into the state an operator asked for (paused,
    /// cancelled), or back to queued (shutdown). Only a cancel counts the attempt.
    /// Returns the state the job is now in.
    func release(on connection: PostgresConnection) throws -> JobState {
        let rows = try connection.query("""
            UPDATE jobs SET
                state = coalesce(desired_state, 'queued'),
                attempt = CASE WHEN desired_state = 'cancelled' THEN attempt ELSE attempt - 1 END,
                finished_at = CASE WHEN desired_state = 'cancelled' THEN now() END,
                run_at = now(), desired_state = NULL,
                lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence) RETURNING state
            """, [jobID, token])
        guard let row = rows.first else { throw JobLeaseLost(jobID: jobID) }
        return try row.decodeCase(0)
    }

    /// `attempt_errors` with this attempt's error added (the newest 20 are kept).
    static func appendError(_ parameter: String) -> String {
        """
        (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]') FROM jsonb_array_elements(attempt_errors
             || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(), 'error', \(parameter)::text)))
             WITH ORDINALITY AS h(e, n)
          WHERE n > jsonb_array_length(attempt_errors) + 1 - 20)
        """
    }

    private func fenced(_ connection: PostgresConnection, _ sql: String, _ extra: [any PostgresEncodable]) throws {
        guard try connection.execute(sql, [jobID, token] + extra) == 1 else { throw JobLeaseLost(jobID: jobID) }
    }

    private func desiredState(_ rows: [Row]) throws -> JobState? {
        guard let row = rows.first else { throw JobLeaseLost(jobID: jobID) }
        return try row.decodeCase(0, as: JobState?.self)
    }
}
