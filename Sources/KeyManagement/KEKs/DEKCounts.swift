import Foundation
import JobQueue
import PostgresClient

/// Where a DEK count in a report came from, so a reader knows how far to trust it.
public enum DEKCountSource: String, Sendable, Codable, CaseIterable {
    /// `count(*)` over `data_keys` in the reader's snapshot (a scan: guards, never status).
    case exact
    /// The counts the database keeps by trigger (sql/100_kek_dek_counts.sql), folded counts
    /// plus unfolded deltas: exact as of the reader's snapshot, at a cost that does not grow
    /// with the number of DEKs.
    case maintained
    /// Planner statistics; may be off by any amount.
    case estimate
}

/// The DEKs-per-KEK counts the database maintains (sql/100_kek_dek_counts.sql).
///
/// Statement triggers on `data_keys` append one delta row per (statement, KEK); `fold` moves
/// them into `kek_dek_counts`. Reading costs one row per KEK plus one per delta not yet
/// folded, so whoever reads often (the status refresher) folds first and the read stays
/// bounded by the time since the last fold, not by how many DEKs there are.
public enum DEKCounts {
    /// Folds up to `limit` committed deltas in its own short transaction; returns how many.
    /// 0 when another session is folding (it skips instead of waiting) or nothing was pending.
    @discardableResult
    public static func fold(_ connection: PostgresConnection, limit: Int32 = 100_000) throws -> Int64 {
        try connection.query("SELECT kek_fold_dek_counts($1)", [limit])[0].decode(0)
    }

    /// The worker's share of the folding: every worker folds every `interval` seconds, so the
    /// deltas stay few where no status server runs (a second folder skips, never waits).
    /// Folds in rounds of `limit` until less than a round was pending.
    public static func housekeeping(interval: Double = 10, limit: Int32 = 100_000) -> HousekeepingStep {
        HousekeepingStep(name: "fold_dek_counts", interval: interval) { connection in
            while try fold(connection, limit: limit) >= Int64(limit) {}
        }
    }

    /// Every KEK's maintained count in the current snapshot (KEKs without DEKs are absent, as in `exact`).
    public static func current(_ connection: PostgresConnection) throws -> [Int32: Int64] {
        Dictionary(uniqueKeysWithValues: try connection.query("SELECT kek_id, deks FROM kek_dek_counts_current WHERE deks <> 0").map {
            (try $0.decode(0) as Int32, try $0.decode(1) as Int64)
        })
    }

    /// The DEKs under any of `keks`, from the maintained counts (exact in the current snapshot, no scan).
    public static func total(_ connection: PostgresConnection, keks: [Int32]) throws -> Int64 {
        try connection.query("SELECT COALESCE(sum(deks), 0)::int8 FROM kek_dek_counts_current WHERE kek_id = ANY($1::int4[])",
                             [PostgresArray(keks)])[0].decode(0)
    }

    /// The DEKs under any of `keks` other than those of `ids` (DEKs that failed to open), by
    /// the maintained counts and primary-key look-ups: no walk of the KEKs' index ranges, which
    /// a pass that moved their DEKs away has filled with dead entries.
    public static func left(besides ids: [Int64], under keks: [Int32], _ connection: PostgresConnection) throws -> Int64 {
        let left = try total(connection, keks: keks)
        guard left > 0, !ids.isEmpty else { return left }
        let stillThere: Int64 = try connection.query(
            "SELECT count(*) FROM data_keys WHERE id = ANY($1::int8[]) AND kek_id = ANY($2::int4[])",
            [PostgresArray(ids), PostgresArray(keks)])[0].decode(0)
        return left - stillThere
    }

    /// The same counts by a scan of `data_keys` (`count(*) GROUP BY kek_id`): what the
    /// maintained counts must always equal. For tests and checks, never for a status refresh.
    public static func exact(_ connection: PostgresConnection) throws -> [Int32: Int64] {
        Dictionary(uniqueKeysWithValues: try connection.query("SELECT kek_id, count(*) FROM data_keys GROUP BY kek_id").map {
            (try $0.decode(0) as Int32, try $0.decode(1) as Int64)
        })
    }

    /// Deltas waiting to be folded (what a read costs beyond one row per KEK).
    public static func unfolded(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT count(*) FROM kek_dek_count_deltas")[0].decode(0)
    }
}
