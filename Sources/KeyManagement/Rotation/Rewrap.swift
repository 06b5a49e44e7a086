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

/// The rotation's statements: read a batch of an old KEK's DEKs, write them back moved to the new
/// KEK. `Rewrap.batch` does both in one transaction; `RewrapStream` overlaps the worker's crypto
/// with the server's write across batches.
public enum Rewrap {
    /// Reads one batch: `$1` old KEK, `$2` after id, `$3` up to id, `$4` limit. No lock: the
    /// batch is locked (`lockBatchSQL`) in the transaction that moves it, and the move applies
    /// only to rows that still hold the bytes read.
    public static let readBatchSQL = """
        SELECT id, wrapped_key FROM data_keys
        WHERE kek_id = $1 AND id > $2 AND id <= $3
        ORDER BY id LIMIT $4
        """

    /// Locks the rows of a batch read that are still under the old KEK: `$1` ids, `$2` old KEK.
    /// A row another transaction holds is skipped, not waited for (`SKIP LOCKED`: the rotation's
    /// final sweep takes it), so a rotation never waits on, or deadlocks with, an application's
    /// transaction. `FOR NO KEY UPDATE`, which an application's `FOR KEY SHARE` (a foreign key to
    /// the DEK) does not conflict with.
    public static let lockBatchSQL = """
        SELECT id FROM data_keys WHERE id = ANY($1::int8[]) AND kek_id IS NOT DISTINCT FROM $2
        FOR NO KEY UPDATE SKIP LOCKED
        """

    /// Moves the locked rows of a batch: `$1` new KEK, `$2` ids, `$3` bytes read, `$4` new bytes,
    /// `$5` old KEK, `$6`/`$7` the lowest and highest id of the batch. A row whose bytes or KEK
    /// changed since they were read is left alone, so a concurrent writer's change is never
    /// overwritten.
    ///
    /// Both statements find rows by primary key only, whatever the statistics say about the old
    /// KEK: they are stale right after a bulk import or after the previous rotation moved every
    /// DEK under it, and a plan that trusts them walks all of that KEK's DEKs for each batch
    /// (measured at 1M DEKs: a locking sub-select re-run per row took minutes per batch, a CTE
    /// joined by nested loop 606 ms, the plain join hashed over the KEK's index range 35×). The
    /// KEK is compared with `IS NOT DISTINCT FROM` (the column is NOT NULL: the same test), which
    /// no index on `kek_id` can serve: 18 ms per 2,000-row move with fresh or stale statistics.
    ///
    /// The id range (`$6`, `$7`) changes no result (every id of `$2` is in it) and bounds the
    /// primary-key scan: on a table of up to a few hundred thousand DEKs the planner prefers a
    /// merge join, whose scan of `data_keys_pkey` otherwise starts at the table's lowest id and
    /// filters out every row moved before (measured at 100k DEKs: 10 ms for the first batch,
    /// 36 ms by the 45th, each walking all the rows before it).
    public static let moveBatchSQL = """
        UPDATE data_keys d SET kek_id = $1, wrapped_key = u.new_key
        FROM unnest($2::int8[], $3::bytea[], $4::bytea[]) AS u(id, old_key, new_key)
        WHERE d.id = u.id AND d.kek_id IS NOT DISTINCT FROM $5 AND d.wrapped_key = u.old_key
          AND d.id BETWEEN $6 AND $7
        """

    /// The lowest and highest of `ids` (0 and 0 for none), the bound parameters of a batch
    /// statement over those ids (`moveBatchSQL`'s `$6`, `$7`).
    public static func idBounds(_ ids: [Int64]) -> [any PostgresEncodable] {
        [ids.min() ?? 0, ids.max() ?? 0]
    }

    /// Reads up to `limit` DEKs of KEK `old` with ids in `(after, upTo]`, rewraps them in memory
    /// and writes them back, all in the caller's transaction. A row that fails to open is left
    /// untouched and reported, not fatal. The range scan starts at `after` on the `(kek_id, id)`
    /// index, so a batch costs the same at the end of a large table as at its start.
    public static func batch(
        _ connection: PostgresConnection, from old: KEKCipher, to new: KEKCipher,
        after: Int64, upTo: Int64 = .max, limit: Int
    ) throws -> RewrapBatchResult {
        let statements = RewrapStatements(from: old, to: new, upTo: upTo, limit: limit)
        let batch = try statements.lock(try statements.read(connection, after: after), on: connection)
        let rewrapped = try statements.move(batch, on: connection)
        return RewrapBatchResult(rewrapped: rewrapped, failures: batch.failures, lastID: batch.lastID)
    }
}

/// The statements of one rotation pass over an id range, with the rewrap they apply: the real
/// one, or (for `kek bench`'s limit) one that returns each row's bytes without crypto.
public struct RewrapStatements {
    public let from: Int32
    public let to: Int32
    public let upTo: Int64
    public let limit: Int
    let rewrap: ([UInt8], Int64) throws -> [UInt8]

    public init(from old: KEKCipher, to new: KEKCipher, upTo: Int64 = .max, limit: Int) {
        self.init(from: old.kekID, to: new.kekID, upTo: upTo, limit: limit) { wrapped, id in
            try KEKCipher.rewrapDEK(wrapped, dekID: id, from: old, to: new)
        }
    }

    public init(from old: Int32, to new: Int32, upTo: Int64 = .max, limit: Int,
                rewrap: @escaping ([UInt8], Int64) throws -> [UInt8]) {
        from = old
        to = new
        self.upTo = upTo
        self.limit = limit
        self.rewrap = rewrap
    }

    /// Reads the batch after `after` and rewraps it in memory.
    func read(_ connection: PostgresConnection, after: Int64) throws -> PreparedBatch {
        try prepare(try connection.query(Rewrap.readBatchSQL, readValues(after: after)))
    }

    /// Sends the read of the batch after `after` and returns while the server runs it.
    func sendRead(_ connection: PostgresConnection, after: Int64) throws -> PendingStatement {
        try connection.send(Rewrap.readBatchSQL, readValues(after: after))
    }

    private func readValues(after: Int64) -> [any PostgresEncodable] { [from, after, upTo, limit] }

    /// Rewraps read rows in memory: the worker's crypto, no database.
    func prepare(_ rows: [Row]) throws -> PreparedBatch {
        var batch = PreparedBatch(capacity: rows.count)
        for row in rows {
            let id: Int64 = try row.decode(0)
            let wrapped: [UInt8] = try row.decode(1)
            batch.lastID = id
            do {
                batch.after.append(try rewrap(wrapped, id))
                batch.ids.append(id)
                batch.before.append(wrapped)
            } catch {
                batch.failures.append(RewrapFailure(dekId: id, reason: "\(error)"))
            }
        }
        return batch
    }

    /// Locks `batch`'s rows and returns the batch with only those it got left to move.
    func lock(_ batch: PreparedBatch, on connection: PostgresConnection) throws -> PreparedBatch {
        batch.ids.isEmpty ? batch : batch.keeping(try lockedIDs(try connection.query(Rewrap.lockBatchSQL, lockValues(batch))))
    }

    /// Sends the lock of `batch`'s rows (nil: nothing to lock).
    func sendLock(_ batch: PreparedBatch, on connection: PostgresConnection) throws -> PendingStatement? {
        batch.ids.isEmpty ? nil : try connection.send(Rewrap.lockBatchSQL, lockValues(batch))
    }

    private func lockValues(_ batch: PreparedBatch) -> [any PostgresEncodable] { [PostgresArray(batch.ids), from] }

    /// The ids a lock statement returned.
    func lockedIDs(_ rows: [Row]) throws -> Set<Int64> {
        Set(try rows.map { try $0.decode(0) as Int64 })
    }

    /// Moves `batch` and returns the rows moved.
    func move(_ batch: PreparedBatch, on connection: PostgresConnection) throws -> Int {
        batch.ids.isEmpty ? 0 : try connection.execute(Rewrap.moveBatchSQL, moveValues(batch))
    }

    /// The move's parameters encoded for `send` (nil: nothing to move).
    func moveParameters(_ batch: PreparedBatch) throws -> PostgresParameters? {
        batch.ids.isEmpty ? nil : try PostgresParameters(moveValues(batch))
    }

    private func moveValues(_ batch: PreparedBatch) -> [any PostgresEncodable] {
        [to, PostgresArray(batch.ids), PostgresArray(batch.before), PostgresArray(batch.after), from] + Rewrap.idBounds(batch.ids)
    }
}

/// A batch read and rewrapped in memory, not yet written: ids, the bytes read, the new bytes.
struct PreparedBatch {
    var ids: [Int64] = []
    var before: [[UInt8]] = []
    var after: [[UInt8]] = []
    var failures: [RewrapFailure] = []
    /// The highest id read (failures included); nil when the range had no row left.
    var lastID: Int64?

    init(capacity: Int) {
        ids.reserveCapacity(capacity)
        before.reserveCapacity(capacity)
        after.reserveCapacity(capacity)
    }

    /// The batch with only the rows in `locked` left to move (failures and `lastID` kept).
    func keeping(_ locked: Set<Int64>) -> PreparedBatch {
        guard locked.count < ids.count else { return self }
        var kept = self
        let keep = ids.indices.filter { locked.contains(ids[$0]) }
        kept.ids = keep.map { ids[$0] }
        kept.before = keep.map { before[$0] }
        kept.after = keep.map { after[$0] }
        return kept
    }
}

// A job payload (rotation checkpoints and results): its key as `JobJSON` wrote it.
extension RewrapFailure {
    enum CodingKeys: String, CodingKey {
        case reason
        case dekId = "dek_id"
    }
}
