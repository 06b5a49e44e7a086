import Foundation
import PostgresClient

/// The statements `kek jobs bench` needs to set the table up between runs, kept here so that
/// no other target writes SQL against the jobs tables.
extension JobQueue {
    /// Deletes every job of the given kinds, whatever its state; returns how many.
    @discardableResult
    public func deleteJobs(kinds: [String]) throws -> Int {
        try connection.execute("DELETE FROM jobs WHERE kind = ANY($1::text[])", [PostgresArray(kinds)])
    }

    /// Adds `count` completed jobs of `kind` (a table full of finished work), then refreshes
    /// the planner's statistics.
    public func addFinishedHistory(kind: String, count: Int) throws {
        try connection.execute("""
            INSERT INTO jobs (kind, state, attempt, finished_at)
            SELECT $1, 'completed', 1, now() FROM generate_series(1, $2::int8)
            """, [kind, count])
        try connection.execute("ANALYZE jobs")
    }

    /// Reclaims dead job rows and refreshes statistics, so that runs start from the same table
    /// state. Must run outside a transaction.
    public func vacuumJobs() throws {
        try connection.execute("VACUUM ANALYZE jobs")
    }

    /// Jobs of `kind` not yet completed.
    public func uncompletedCount(kind: String) throws -> Int {
        try connection.query("SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'completed'", [kind])[0].decode(0)
    }
}
