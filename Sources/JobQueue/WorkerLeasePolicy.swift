extension WorkerConfiguration {
    /// Sets the lease and the timings that follow from it, so every worker (the CLI's, the
    /// demo's, a test's) derives them the same way:
    /// - a loop frozen inside a batch loses its session, and with it the row locks, after two
    ///   leases (`idle_in_transaction_session_timeout`, at least 10 s);
    /// - the `workers` row is refreshed three times per lease, between every 1 s and every 10 s.
    public mutating func useLease(seconds: Double) {
        leaseSeconds = seconds
        limits.idleInTransactionTimeout = max(2 * seconds, 10)
        heartbeatInterval = min(10, max(1, seconds / 3))
    }
}
