import KeyWrapping
import PostgresClient

/// A DEK that could not be rewrapped, and why (never its bytes).
public struct RewrapFailure: Codable, Sendable, Equatable {
    public var dekId: Int64
    public var reason: String
}

/// What one batch did.
public struct RewrapBatchResult: Sendable {
    public var rewrapped: Int
    public var failures: [RewrapFailure]
    /// The highest id the batch looked at; the next batch starts after it.
    public var lastID: Int64?
}

/// The rotation's hot path: moves DEKs from an old KEK to the new one, one batch per call.
public enum Rewrap {
    /// Locks one batch: `$1` old KEK, `$2` after id, `$3` up to id, `$4` limit. Public so that
    /// `kek bench` can hand the very same text to its Python peer.
    public static let lockBatchSQL = """
        SELECT id, wrapped_key FROM data_keys
        WHERE kek_id = $1 AND id > $2 AND id <= $3
        ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED
        """

    /// Moves one batch: `$1` new KEK, `$2` ids, `$3` bytes read, `$4` new bytes, `$5` old KEK.
    public static let moveBatchSQL = """
        UPDATE data_keys d SET kek_id = $1, wrapped_key = u.new_key
        FROM unnest($2::int8[], $3::bytea[], $4::bytea[]) AS u(id, old_key, new_key)
        WHERE d.id = u.id AND d.kek_id = $5 AND d.wrapped_key = u.old_key
        """

    /// Locks up to `limit` DEKs of KEK `old` with ids in `(after, upTo]`, skipping rows other
    /// transactions hold (the final sweep picks them up), rewraps them in memory and writes
    /// them back in one statement. Call inside the batch transaction that also records the
    /// checkpoint. A row that fails to open is left untouched and reported, not fatal.
    ///
    /// Each update applies only where the row still holds the bytes read, so a concurrent
    /// writer's change is never overwritten. The range scan starts at `after` on the
    /// `(kek_id, id)` index, so a batch costs the same at the end of a large table as at
    /// its start.
    public static func batch(
        _ connection: PostgresConnection, from old: KEKCipher, to new: KEKCipher,
        after: Int64, upTo: Int64 = .max, limit: Int
    ) throws -> RewrapBatchResult {
        try statements(connection, from: old.kekID, to: new.kekID, after: after, upTo: upTo, limit: limit) { wrapped, id in
            try KEKCipher.rewrapDEK(wrapped, dekID: id, from: old, to: new)
        }
    }

    /// The statements of `batch` with the rewrap supplied by the caller. `kek bench` runs them
    /// with a rewrap that returns bytes of the right length without crypto, to measure the
    /// database's cost of exactly these statements as the limit the rotation is held against.
    public static func statements(
        _ connection: PostgresConnection, from old: Int32, to new: Int32,
        after: Int64, upTo: Int64 = .max, limit: Int, rewrap: ([UInt8], Int64) throws -> [UInt8]
    ) throws -> RewrapBatchResult {
        let rows = try connection.query(lockBatchSQL, [old, after, upTo, limit])
        var ids: [Int64] = []
        var before: [[UInt8]] = []
        var after: [[UInt8]] = []
        var failures: [RewrapFailure] = []
        ids.reserveCapacity(rows.count)
        before.reserveCapacity(rows.count)
        after.reserveCapacity(rows.count)
        var lastID: Int64?
        for row in rows {
            let id: Int64 = try row.decode(0)
            let wrapped: [UInt8] = try row.decode(1)
            lastID = id
            do {
                after.append(try rewrap(wrapped, id))
                ids.append(id)
                before.append(wrapped)
            } catch {
                failures.append(RewrapFailure(dekId: id, reason: "\(error)"))
            }
        }
        var rewrapped = 0
        if !ids.isEmpty {
            rewrapped = try connection.execute(
                moveBatchSQL, [new, PostgresArray(ids), PostgresArray(before), PostgresArray(after), old])
        }
        return RewrapBatchResult(rewrapped: rewrapped, failures: failures, lastID: lastID)
    }
}

// A job payload (rotation checkpoints and results): its key as `JobJSON` wrote it.
extension RewrapFailure {
    enum CodingKeys: String, CodingKey {
        case reason
        case dekId = "dek_id"
    }
}
