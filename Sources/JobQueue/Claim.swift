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
