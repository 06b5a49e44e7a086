import PostgresClient

extension JobLease {
    /// Puts the job back in the queue, due now, without counting this attempt: this worker
    /// found it cannot run the job (`JobNotRunnableHere`); another worker may. The checkpoint
    /// and `last_error` are kept as they were.
    func handBack(on connection: PostgresConnection) throws {
        let changed = try connection.execute("""
            UPDATE jobs SET state = 'queued', attempt = attempt - 1, run_at = now(),
                            lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence)
            """, [jobID, token])
        guard changed == 1 else { throw JobLeaseLost(jobID: jobID) }
    }
}
