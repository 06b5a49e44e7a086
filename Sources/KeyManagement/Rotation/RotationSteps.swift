import Foundation
import KeyWrapping
import PostgresClient

/// A slice of DEK ids of one old KEK that one worker rewraps.
public struct RewrapPart: Codable, Sendable, Equatable {
    public var fromKEK: Int32
    public var toKEK: Int32
    /// Ids in `(afterID, upToID]`.
    public var afterID: Int64
    public var upToID: Int64

    /// `JobJSON` writes `fromKEK` as `from_kek` but reads `from_kek` back as `fromKek`, so
    /// names with an acronym need a key spelled the way the round trip produces it.
    enum CodingKeys: String, CodingKey {
        case fromKEK = "fromKek", toKEK = "toKek", afterID = "afterId", upToID = "upToId"
    }
}

/// What the start of a rotation decided, kept in the rotation job's checkpoint.
public struct RotationStart: Codable, Sendable {
    public var newKEK: Int32
    public var oldKEKs: [Int32]
    public var total: Int64

    /// Spelled for `JobJSON`'s snake_case round trip (see `RewrapPart.CodingKeys`).
    enum CodingKeys: String, CodingKey {
        case newKEK = "newKek", oldKEKs = "oldKeks", total
    }
}

/// The database steps of a KEK rotation; each runs inside the caller's batch transaction.
public enum RotationSteps {
    /// Generates and activates a new KEK (the active one becomes `decrypt_only`) and
    /// counts the DEKs left under every `decrypt_only` KEK.
    public static func start(_ connection: PostgresConnection, rootKeys: RootKeys, actor: String, jobID: Int64?) throws -> RotationStart {
        let store = KEKStore(connection: connection, actor: actor)
        let newKEK = try store.generateLocked(rootKeys: rootKeys, activate: true)
        let old: [Int32] = try connection.query("SELECT id FROM keks WHERE state = 'decrypt_only' ORDER BY id").map { try $0.decode(0) }
        let total = try remaining(connection, oldKEKs: old)
        var details: [String: AuditValue] = ["new_kek": .int(Int64(newKEK)), "old_keks": .texts(old.map(String.init)),
                                             "deks": .int(total)]
        if let jobID { details["job_id"] = .int(jobID) }
        try AuditLog.append(connection, actor: actor, action: .rotationStarted, target: "kek:\(newKEK)", details: details)
        return RotationStart(newKEK: newKEK, oldKEKs: old, total: total)
    }

    /// Splits the DEKs under `oldKEKs` into about `parts` id ranges of similar size.
    public static func split(_ connection: PostgresConnection, start: RotationStart, parts: Int) throws -> [RewrapPart] {
        var result: [RewrapPart] = []
        for kek in start.oldKEKs {
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
                result.append(RewrapPart(fromKEK: kek, toKEK: start.newKEK, afterID: previous, upToID: upper))
                previous = cut
            }
        }
        return result
    }

    /// DEKs still under any of `oldKEKs`.
    public static func remaining(_ connection: PostgresConnection, oldKEKs: [Int32]) throws -> Int64 {
        try connection.query("SELECT count(*) FROM data_keys WHERE kek_id = ANY($1::int4[])", [PostgresArray(oldKEKs)])[0].decode(0)
    }

    /// Retires every old KEK (each in this transaction, guarded by a zero count) and records the end.
    public static func finish(_ connection: PostgresConnection, start: RotationStart, rewrapped: Int64, seconds: Double,
                              actor: String, jobID: Int64?) throws {
        let store = KEKStore(connection: connection, actor: actor)
        for kek in start.oldKEKs { try store.retireLocked(kek, jobID: jobID) }
        var details: [String: AuditValue] = [
            "new_kek": .int(Int64(start.newKEK)), "retired_keks": .texts(start.oldKEKs.map(String.init)),
            "rewrapped": .int(rewrapped), "deks_remaining": .int(0),
            "rows_per_second": .int(seconds > 0 ? Int64(Double(rewrapped) / seconds) : 0),
        ]
        if let jobID { details["job_id"] = .int(jobID) }
        try AuditLog.append(connection, actor: actor, action: .rotationFinished, target: "kek:\(start.newKEK)", details: details)
    }
}
