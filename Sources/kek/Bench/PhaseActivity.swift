import PostgresClient

/// What the server did in the background while one latency phase ran: autovacuum runs over
/// `data_keys`, and whether a checkpoint completed. Printed beside each phase's latency, because
/// these, not the rotation's own statements, are what made one phase look worse than another in
/// the runs of issue #19 (autovacuum of the rewritten table starts on a one-minute tick, so it
/// lands in a rotation phase or not by the clock), and a reader must be able to see which had them.
struct PhaseActivity: Encodable {
    /// Autovacuum runs over `data_keys` that finished during the phase or were running at its end.
    var dataKeysAutovacuums: Int
    /// Whether a checkpoint completed during the phase (the control file's latest checkpoint
    /// changed). Not pg_stat_bgwriter's counters: the checkpointer may report them after the
    /// reset's `CHECKPOINT` has returned, which then counts in the phase that follows.
    var checkpointCompleted: Bool

    enum CodingKeys: String, CodingKey {
        case checkpointCompleted = "checkpoint_completed", dataKeysAutovacuums = "data_keys_autovacuums"
    }

    /// The server's counters at one moment.
    struct Counters {
        var autovacuums: Int
        var checkpoint: String
        var vacuumRunning: Bool

        static func read(_ connection: PostgresConnection) throws -> Counters {
            // The cumulative statistics a backend reads are cached for its transaction: start from a fresh snapshot.
            _ = try connection.query("SELECT pg_stat_clear_snapshot()")
            let row = try connection.query("""
                SELECT (SELECT autovacuum_count FROM pg_stat_user_tables WHERE relid = 'data_keys'::regclass),
                       (SELECT redo_lsn::text FROM pg_control_checkpoint()),
                       EXISTS (SELECT 1 FROM pg_stat_progress_vacuum WHERE relid = 'data_keys'::regclass)
                """)[0]
            return Counters(autovacuums: Int(try row.decode(0) as Int64), checkpoint: try row.decode(1), vacuumRunning: try row.decode(2))
        }
    }

    init(from start: Counters, to end: Counters) {
        dataKeysAutovacuums = end.autovacuums - start.autovacuums + (end.vacuumRunning ? 1 : 0)
        checkpointCompleted = end.checkpoint != start.checkpoint
    }

    init(adding parts: [PhaseActivity]) {
        dataKeysAutovacuums = parts.reduce(0) { $0 + $1.dataKeysAutovacuums }
        checkpointCompleted = parts.contains { $0.checkpointCompleted }
    }

    var summary: String {
        "autovacuum of data_keys \(dataKeysAutovacuums)×, \(checkpointCompleted ? "a checkpoint" : "no checkpoint")"
    }
}
