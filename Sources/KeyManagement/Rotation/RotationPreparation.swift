import Foundation
import PostgresClient

/// What a rotation decides and reads before it takes any lock: the plan (and its budget
/// check), and for every KEK whose DEKs it moves the id ranges of its parts. This is the
/// long step of a rotation's start (one ordered scan of each old KEK's DEKs), so it runs
/// outside the transaction that generates the KEK and appends audit rows: while it runs,
/// the rotation holds neither the active KEK's row nor the audit chain's head, and an
/// application storing a secret never waits for it (issue #19, finding 5).
public struct RotationPreparation: Sendable {
    /// One old KEK as the scan saw it.
    public struct Scanned: Sendable, Equatable {
        public var kek: Int32
        /// DEKs under the KEK when the scan ran.
        public var deks: Int64
        /// The highest DEK id under the KEK when the scan ran (0 when none): DEKs inserted
        /// later, before the KEK is demoted, have higher ids and are counted by `start`.
        public var maxID: Int64
        /// Part boundaries: parts are `(0, cut₁], (cut₁, cut₂], …, (cutₙ, Int64.max]`.
        public var cuts: [Int64]
    }

    public var plan: RotationPlan
    public var scanned: [Scanned]

    /// Plans (refusing when the target's wrap budget cannot hold every DEK) and splits every
    /// old KEK into at most `parts` ranges of about the same number of DEKs. Read-only; each
    /// statement runs on its own, in no transaction.
    public static func make(_ connection: PostgresConnection, rewrapOnly: Bool?, parts: Int) throws -> RotationPreparation {
        let plan = try RotationPlan.make(connection, rewrapOnly: rewrapOnly)
        try plan.checkBudget()
        let scanned = try plan.keks.map { line in
            try scan(connection, kek: line.id, deks: line.deks, parts: parts)
        }
        return RotationPreparation(plan: plan, scanned: scanned)
    }

    /// Cut points at every `step`-th DEK id of one KEK (`step` from the plan's count), in one
    /// ordered index-only scan of the `(kek_id, id)` index: no sort, a fraction of a
    /// microsecond per row (the `percentile_disc` over rows × parts it replaces sorted every
    /// row once per part, ~6 µs per row). The same statement returns the last row's id and
    /// position, so `deks` and `maxID` come from one snapshot.
    static func scan(_ connection: PostgresConnection, kek: Int32, deks planned: Int64, parts: Int) throws -> Scanned {
        let step = max(1, (planned + Int64(max(parts, 1)) - 1) / Int64(max(parts, 1)))
        let rows = try connection.query("""
            SELECT id, n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM data_keys WHERE kek_id = $1) s
            WHERE n % $2 = 0 OR id = (SELECT max(id) FROM data_keys WHERE kek_id = $1) ORDER BY id
            """, [kek, step]).map { (id: try $0.decode(0) as Int64, n: try $0.decode(1) as Int64) }
        guard let last = rows.last else { return Scanned(kek: kek, deks: 0, maxID: 0, cuts: []) }
        return Scanned(kek: kek, deks: last.n, maxID: last.id, cuts: rows.dropLast().map(\.id))
    }

    /// The parts of the old KEKs `start` settled on, moving to `target`. A KEK the scan did
    /// not see (made `decrypt_only` by someone else in between) gets one part of every id; one
    /// the scan found empty gets none (the sweep moves what an application added since).
    func parts(oldKeks: [Int32], target: Int32) -> [RewrapPart] {
        oldKeks.flatMap { kek -> [RewrapPart] in
            let seen = scanned.first { $0.kek == kek }
            if let seen, seen.deks == 0 { return [] }
            let cuts = seen?.cuts ?? []
            let lowers = [Int64(0)] + cuts
            let uppers = cuts + [Int64.max]
            return zip(lowers, uppers).map { RewrapPart(fromKek: kek, toKek: target, afterId: $0, upToId: $1) }
        }
    }
}
