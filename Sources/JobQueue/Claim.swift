import Foundation
import PostgresClient

/// A job this worker has claimed, with the lease that fences every write it makes for it.
public struct ClaimedJob: Sendable {
    public var job: Job
    public var lease: JobLease
}

/// Claims the next runnable job in one statement.
///
/// Two candidates, each `FOR UPDATE SKIP LOCKED`: the first queued job that is due (from
/// the partial index `jobs_runnable`, so finished jobs cost nothing), and the running job
/// whose lease expired longest ago (its worker died or froze). The better of the two by
/// priority and due time gets a fresh lease token, so whatever the previous owner writes
/// later is refused. No leader and no rescuer: every worker runs this same statement.
public enum JobClaim {
    /// The claim statement: $1 worker id, $2 kinds (text[]), $3 lease seconds (float8).
    public static let sql = """
        WITH queued AS (
            SELECT id, priority, run_at AS due FROM jobs
             WHERE state = 'queued' AND run_at <= now() AND kind = ANY($2)
             ORDER BY priority, run_at, id
             LIMIT 1 FOR UPDATE SKIP LOCKED
        ), expired AS (
            SELECT id, priority, lease_expires_at AS due FROM jobs
             WHERE state = 'running' AND lease_expires_at < now() AND kind = ANY($2)
             ORDER BY lease_expires_at, id
             LIMIT 1 FOR UPDATE SKIP LOCKED
        ), chosen AS (
            SELECT id FROM (SELECT * FROM queued UNION ALL SELECT * FROM expired) candidates
             ORDER BY priority, due, id LIMIT 1
        )
        UPDATE jobs SET
            state = 'running',
            attempt = jobs.attempt + 1,
            lease_token = gen_random_uuid(),
            lease_owner = $1,
            lease_expires_at = clock_timestamp() + make_interval(secs => $3),
            attempted_at = now(),
            started_at = coalesce(jobs.started_at, now()),
            checkpointed_at = NULL,
            updated_at = now()
          FROM chosen
         WHERE jobs.id = chosen.id
        RETURNING jobs.lease_token, \(Job.columns())
        """

    /// Claims one job of `kinds` for `workerID` with a lease of `leaseSeconds`, or nil when
    /// nothing is runnable. Runs as its own short transaction.
    public static func next(on connection: PostgresConnection, workerID: String, kinds: [String],
                            leaseSeconds: Double) throws -> ClaimedJob? {
        guard let row = try connection.query(sql, [workerID, PostgresArray(kinds), leaseSeconds]).first else {
            return nil
        }
        let job = try Job(row: row)
        return ClaimedJob(job: job, lease: JobLease(jobID: job.id, token: try row.decode("lease_token"),
                                                    seconds: leaseSeconds))
    }
}
