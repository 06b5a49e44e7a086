import Foundation
import KeyWrapping
import PostgresClient

/// A slice of DEK ids of one old KEK that one worker rewraps.
public struct RewrapPart: Codable, Sendable, Equatable {
    public var fromKek: Int32
    public var toKek: Int32
    /// Ids in `(afterId, upToId]`.
    public var afterId: Int64
    public var upToId: Int64
}

/// What the start of a rotation decided, kept in the rotation job's checkpoint.
public struct RotationStart: Codable, Sendable {
    public var newKek: Int32
    public var oldKeks: [Int32]
    public var total: Int64
    /// False when the rotation moved DEKs to the KEK that was already active.
    public var generatedKek: Bool?
}

/// The database steps of a KEK rotation; each runs inside the caller's batch transaction.
public enum RotationSteps {
    /// The short, locking half of a rotation's start, after `RotationPreparation.make` did the
    /// long read-only half: generates and activates a new KEK (the active one becomes
    /// `decrypt_only`) unless the plan only moves DEKs left under `decrypt_only` KEKs to the
    /// active one, counts the DEKs to move and records `rotation.started`.
    ///
    /// Lock order against an application storing a secret (its DEK insert takes FOR KEY SHARE
    /// on the active KEK's row, then its audit row takes the audit chain's head): nothing here
    /// waits for a lock an application holds. The demotion is a FOR NO KEY UPDATE of the
    /// active row (`state` is in no index a foreign key could use), which KEY SHARE does not
    /// block, and kek_app cannot lock keks any harder (no UPDATE on keks, 044). So an
    /// application waits at most for this transaction's audit head until it commits, and no
    /// scan of data_keys runs in it. (Taking the active row FOR UPDATE first would make both
    /// sides wait: RotationStartLockTests shows neither does now.)
    public static func start(_ connection: PostgresConnection, _ preparation: RotationPreparation, rootKeys: RootKeys,
                             actor: String, jobID: Int64?) throws -> (start: RotationStart, parts: [RewrapPart]) {
        let generates = preparation.plan.generatesKek
        let target: Int32
        if generates {
            target = try KEKStore(connection: connection, actor: actor).generateLocked(rootKeys: rootKeys, activate: true)
        } else {
            guard let active: Int32 = try connection.query("SELECT id FROM keks WHERE state = 'active'").first?.decode(0) else {
                throw KeyManagementError.noActiveKEK
            }
            target = active
        }
        let old: [Int32] = try connection.query("SELECT id FROM keks WHERE state = 'decrypt_only' ORDER BY id").map { try $0.decode(0) }
        let total = try counted(connection, preparation, oldKeks: old)
        var details: [String: AuditValue] = ["new_kek": .int(Int64(target)), "old_keks": .texts(old.map(String.init)),
                                             "deks": .int(total), "generated_kek": .text(generates ? "yes" : "no")]
        if let jobID { details["job_id"] = .int(jobID) }
        try AuditLog.append(connection, actor: actor, action: .rotationStarted, target: "kek:\(target)", details: details)
        let start = RotationStart(newKek: target, oldKeks: old, total: total, generatedKek: generates)
        return (start, preparation.parts(oldKeks: old, target: target))
    }

    /// The DEKs to move, without a scan: the plan's count per KEK plus those inserted under it
    /// since the preparation's scan (ids above the highest it saw; nothing is inserted under a
    /// KEK once it is `decrypt_only`). A KEK the preparation did not see is counted whole.
    /// A DEK deleted in between is still counted: the figure is the progress bar's total.
    static func counted(_ connection: PostgresConnection, _ preparation: RotationPreparation, oldKeks: [Int32]) throws -> Int64 {
        var total: Int64 = 0
        for kek in oldKeks {
            let seen = preparation.scanned.first { $0.kek == kek }
            let added: Int64 = try connection.query(
                "SELECT count(*) FROM data_keys WHERE kek_id = $1 AND id > $2", [kek, seen?.maxID ?? 0])[0].decode(0)
            total += (seen?.deks ?? 0) + added
        }
        return total
    }

    /// The highest DEK id (0 with none): where a sweep's id windows end. The primary key's last entry.
    public static func highestDEKID(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT COALESCE(max(id), 0)::int8 FROM data_keys")[0].decode(0)
    }

    /// The DEK ids one statement of a pass that starts again from the lowest id covers at most
    /// (a rotation's sweep, re-encryption's final pass). Such a pass comes after a walk that
    /// moved or replaced the KEK's DEKs, which left the KEK's index range full of dead entries:
    /// one statement over all of them cost 0.8 s per 1M (measured), about 80 s at 100M, past the
    /// job's 60 s statement timeout. Windows keep every statement under about a second.
    public static let idWindow: Int64 = 1_000_000

    /// The lowest DEK id above `id` (nil: none), by the primary key: where the next id window
    /// starts when the id space has a gap (an application may insert DEKs with ids of its own,
    /// up to 2^63 - 1).
    public static func lowestDEKID(above id: Int64, _ connection: PostgresConnection) throws -> Int64? {
        try connection.query("SELECT min(id) FROM data_keys WHERE id > $1", [id])[0].decode(0)
    }

    /// Calls `batch(after, upTo)` over `(0, end]` in windows of at most `idWindow` ids, each
    /// window from `after` until `batch` returns no last id (the window is done); a last id of
    /// `end` or more stops the walk. After a window, the next one starts just below the lowest
    /// DEK id past it (`lowestDEKID`, one read of `reader`), so a gap in the id space costs one
    /// look-up, not a statement per million ids.
    public static func walkWindows(upTo end: Int64, reader: some RotationReader,
                                   _ batch: (_ after: Int64, _ upTo: Int64) throws -> Int64?) throws {
        var after: Int64 = 0
        while after < end {
            let window = end - after <= idWindow ? end : after + idWindow
            if let last = try batch(after, window) {
                after = last
            } else {
                guard window < end, let next = try reader.read({ try lowestDEKID(above: window, $0) }) else { return }
                after = max(window, next - 1)
            }
        }
    }

    /// Up to `limit` ids of the DEKs still under `keks` but those in `excluding`, lowest first,
    /// looked for window by window, each window one read of `reader` (the job's reader renews
    /// its lease between them), without a lock: what a pass that the maintained counts sent
    /// looking checks before it says rows are held. (Counts can drift only where a superuser
    /// turned the triggers off, e.g. a logical replica's apply; the data is the truth.)
    public static func remaining(under keks: [Int32], excluding: [Int64], limit: Int, reader: some RotationReader) throws -> [Int64] {
        var ids: [Int64] = []
        let end = try reader.read { try highestDEKID($0) }
        try walkWindows(upTo: end, reader: reader) { after, window in
            ids += try reader.read { connection in
                try connection.query("""
                    SELECT id FROM data_keys
                    WHERE kek_id = ANY($1::int4[]) AND id > $3 AND id <= $4 AND NOT id = ANY($2::int8[])
                    ORDER BY id LIMIT $5
                    """, [PostgresArray(keks), PostgresArray(excluding), after, window, limit - ids.count]).map { try $0.decode(0) }
            }
            return ids.count >= limit ? end : nil
        }
        return ids
    }

    /// Retires every old KEK (each in this transaction, guarded by a zero count) and records the end.
    public static func finish(_ connection: PostgresConnection, start: RotationStart, rewrapped: Int64, seconds: Double,
                              actor: String, jobID: Int64?) throws {
        let store = KEKStore(connection: connection, actor: actor)
        for kek in start.oldKeks { try store.retireLocked(kek, jobID: jobID) }
        var details: [String: AuditValue] = [
            "new_kek": .int(Int64(start.newKek)), "retired_keks": .texts(start.oldKeks.map(String.init)),
            "rewrapped": .int(rewrapped), "deks_remaining": .int(0),
            "rows_per_second": .int(seconds > 0 ? Int64(Double(rewrapped) / seconds) : 0),
        ]
        if let jobID { details["job_id"] = .int(jobID) }
        try AuditLog.append(connection, actor: actor, action: .rotationFinished, target: "kek:\(start.newKek)", details: details)
    }
}

// Job payload keys, written out so the bytes in job rows stay what `JobJSON`'s snake_case
// strategy wrote (queued jobs of an older kek still decode); `JSONCodec` has no key strategy.
extension RewrapPart {
    enum CodingKeys: String, CodingKey {
        case fromKek = "from_kek", toKek = "to_kek", afterId = "after_id", upToId = "up_to_id"
    }
}

extension RotationStart: Equatable {
    enum CodingKeys: String, CodingKey {
        case total
        case newKek = "new_kek", oldKeks = "old_keks", generatedKek = "generated_kek"
    }
}
