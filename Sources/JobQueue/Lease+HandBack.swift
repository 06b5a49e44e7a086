import PostgresClient

extension JobLease {
    /// Puts the job back in the queue, due after `delay` seconds, without counting this
    /// attempt: this worker found it cannot run the job (`JobNotRunnableHere`); another worker
    /// may. `counted` adds one to `counted_hand_backs` (the worker could run the kind, so the
    /// job may be what nobody can run). The checkpoint and `last_error` are kept as they were.
    func handBack(on connection: PostgresConnection, delay: Double = 0, counted: Bool = false) throws {
        let changed = try connection.execute("""
            UPDATE jobs SET state = 'queued', attempt = attempt - 1, run_at = now() + make_interval(secs => $3),
                            counted_hand_backs = counted_hand_backs + $4,
                            lease_token = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE \(Self.fence)
            """, [jobID, token, delay, Int32(counted ? 1 : 0)])
        guard changed == 1 else { throw JobLeaseLost(jobID: jobID) }
    }
}
