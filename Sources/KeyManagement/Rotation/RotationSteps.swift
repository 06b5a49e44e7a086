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
    /// Decides as `RotationPlan` does (refusing up front when the target KEK's wrap budget
    /// cannot hold every DEK), then generates and activates a new KEK (the active one becomes
    /// `decrypt_only`) unless the rotation only moves DEKs left under `decrypt_only` KEKs to
    /// the active one, and counts the DEKs to move.
    public static func start(_ connection: PostgresConnection, rootKeys: RootKeys, actor: String, jobID: Int64?,
                             rewrapOnly: Bool? = nil) throws -> RotationStart {
        let plan = try RotationPlan.make(connection, rewrapOnly: rewrapOnly)
        try plan.checkBudget()
        let store = KEKStore(connection: connection, actor: actor)
        let target = try plan.targetKek ?? store.generateLocked(rootKeys: rootKeys, activate: true)
        let old: [Int32] = try connection.query("SELECT id FROM keks WHERE state = 'decrypt_only' ORDER BY id").map { try $0.decode(0) }
        let total = try remaining(connection, oldKeks: old)
        var details: [String: AuditValue] = ["new_kek": .int(Int64(target)), "old_keks": .texts(old.map(String.init)),
                                             "deks": .int(total), "generated_kek": .text(plan.generatesKek ? "yes" : "no")]
        if let jobID { details["job_id"] = .int(jobID) }
        try AuditLog.append(connection, actor: actor, action: .rotationStarted, target: "kek:\(target)", details: details)
        return RotationStart(newKek: target, oldKeks: old, total: total, generatedKek: plan.generatesKek)
    }

    /// Splits the DEKs under `oldKeks` into about `parts` id ranges of similar size.
    public static func split(_ connection: PostgresConnection, start: RotationStart, parts: Int) throws -> [RewrapPart] {
        var result: [RewrapPart] = []
        for kek in start.oldKeks {
            let bounds = try connection.query("""
                SELECT coalesce(array_agg(b ORDER BY b), '{}')::int8[]::text FROM (
                    SELECT DISTINCT percentile_disc(p) WITHIN GROUP (ORDER BY id) AS b
                    FROM data_keys, generate_series(1, $2) AS g(n), LATERAL (SELECT g.n::float8 / $2) AS q(p)
                    WHERE kek_id = $1 GROUP BY p) s
                """, [kek, Int64(max(parts, 1))])
            let text: String = try bounds[0].decode(0)
            let cuts = text.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").compactMap { Int64($0) }
            var previous: Int64 = 0
            for (index, cut) in cuts.enumerated() {
                let upper = index == cuts.count - 1 ? Int64.max : cut
                result.append(RewrapPart(fromKek: kek, toKek: start.newKek, afterId: previous, upToId: upper))
                previous = cut
            }
        }
        return result
    }

    /// DEKs still under any of `oldKeks`.
    public static func remaining(_ connection: PostgresConnection, oldKeks: [Int32]) throws -> Int64 {
        try connection.query("SELECT count(*) FROM data_keys WHERE kek_id = ANY($1::int4[])", [PostgresArray(oldKeks)])[0].decode(0)
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
