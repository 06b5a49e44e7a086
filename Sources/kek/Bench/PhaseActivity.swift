import PostgresClient

/// What the server did in the background while one latency phase ran: autovacuum runs over
/// `data_keys` and checkpoints. Printed beside each phase's latency, because these, not the
/// rotation's own statements, are what made one phase look worse than another in the runs of
/// issue #19 (autovacuum of the rewritten table starts on a one-minute tick, so it lands in a
/// rotation phase or not by the clock), and a reader must be able to see which phase had them.
struct PhaseActivity: Encodable {
    /// Autovacuum runs over `data_keys` that finished during the phase or were running at its end.
    var dataKeysAutovacuums: Int
    /// Checkpoints the server started during the phase (timed or requested).
    var checkpoints: Int

    enum CodingKeys: String, CodingKey {
        case checkpoints, dataKeysAutovacuums = "data_keys_autovacuums"
    }

    /// The server's counters at one moment.
    struct Counters {
        var autovacuums: Int
        var checkpoints: Int
        var vacuumRunning: Bool

        static func read(_ connection: PostgresConnection) throws -> Counters {
            // The cumulative statistics a backend reads are cached for its transaction: start from a fresh snapshot.
            _ = try connection.query("SELECT pg_stat_clear_snapshot()")
            let row = try connection.query("""
                SELECT (SELECT autovacuum_count FROM pg_stat_user_tables WHERE relid = 'data_keys'::regclass),
                       (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
                       EXISTS (SELECT 1 FROM pg_stat_progress_vacuum WHERE relid = 'data_keys'::regclass)
                """)[0]
            return Counters(autovacuums: Int(try row.decode(0) as Int64), checkpoints: Int(try row.decode(1) as Int64),
                            vacuumRunning: try row.decode(2))
        }
    }

    init(from start: Counters, to end: Counters) {
        dataKeysAutovacuums = end.autovacuums - start.autovacuums + (end.vacuumRunning ? 1 : 0)
        checkpoints = end.checkpoints - start.checkpoints
    }

    init(adding parts: [PhaseActivity]) {
        dataKeysAutovacuums = parts.reduce(0) { $0 + $1.dataKeysAutovacuums }
        checkpoints = parts.reduce(0) { $0 + $1.checkpoints }
    }

    var summary: String {
        "autovacuum of data_keys \(dataKeysAutovacuums)×, checkpoints \(checkpoints)"
    }
}
