import Foundation
import PostgresClient

/// A job this worker has claimed, with the lease that fences every write it makes for it.
public struct ClaimedJob: Sendable {
    public var job: Job
    public var lease: JobLease
}

/// Claims the next runnable job in one statement: `kek_claim_job` in `sql/002_jobs.sql`.
///
/// Two candidates, each `FOR UPDATE SKIP LOCKED`: the first queued job that is due (from
/// the partial index `jobs_runnable`, so finished jobs cost nothing), and the running job
/// whose lease expired longest ago (its worker died or froze). The better of the two by
/// priority and due time gets a fresh lease token, so whatever the previous owner writes
/// later is refused. No leader and no rescuer: every worker runs this same statement.
/// It lives in a plpgsql function so that the server caches its plan.
public enum JobClaim {
    static let sql = "SELECT jobs.lease_token, \(Job.columns()) FROM kek_claim_job($1, $2, $3) AS jobs"

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

extension JobClaim {
    /// Takes up again a job this worker still holds (after its connection came back):
    /// renews the lease under the same token and returns the job as committed, checkpoint
    /// included. Nil when the lease is no longer ours (it expired and another worker took
    /// the job, or the job finished before the connection was lost).
    static func resume(_ lease: JobLease, on connection: PostgresConnection) throws -> Job? {
        try connection.query("""
            UPDATE jobs SET lease_expires_at = clock_timestamp() + make_interval(secs => $3), updated_at = now()
             WHERE \(JobLease.fence) RETURNING \(Job.columns())
            """, [lease.jobID, lease.token, lease.seconds]).first.map(Job.init(row:))
    }
}
