import PostgresClient

/// The cryptoperiod check behind scheduled rotation (NIST SP 800-57 §5.3).
public enum KEKAge {
    /// True when the active KEK was activated more than `seconds` ago, or there is none.
    public static func activeOlderThan(_ connection: PostgresConnection, seconds: Double) throws -> Bool {
        try connection.query("""
            SELECT coalesce((SELECT activated_at < now() - make_interval(secs => $1) FROM keks WHERE state = 'active'), true)
            """, [seconds])[0].decode(0)
    }
}
