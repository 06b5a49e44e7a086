import Foundation
import PostgresClient

/// What a rotation decides and reads before it takes any lock: the plan (and its budget
/// check), and for every KEK whose DEKs it moves the id ranges of its parts. This is the
/// long step of a rotation's start where a KEK's ids are interleaved with another's (then
/// one ordered walk of its index; a dense id span is cut without reading a row), so it runs
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
    /// old KEK into at most `parts` ranges of about the same number of DEKs (nil: the
    /// `defaultParts(deks:)` of each KEK). Read-only: each statement is one step of `reader`.
    public static func make(rewrapOnly: Bool?, parts: Int?, reader: some RotationReader) throws -> RotationPreparation {
        let plan = try reader.read { try RotationPlan.make($0, rewrapOnly: rewrapOnly) }
        try plan.checkBudget()
        let scanned = try plan.keks.map { line in try scan(kek: line.id, parts: parts, reader: reader) }
        return RotationPreparation(plan: plan, scanned: scanned)
    }

    /// `make` on one connection, every step in its own statement (tests, and callers without a lease).
    public static func make(_ connection: PostgresConnection, rewrapOnly: Bool?, parts: Int?) throws -> RotationPreparation {
        try make(rewrapOnly: rewrapOnly, parts: parts, reader: ConnectionReader(connection: connection))
    }

    /// One old KEK's count and lowest and highest id (one statement, so one snapshot: DEKs
    /// inserted later have higher ids and are counted by `start`), then the cuts. The count is
    /// the maintained one (sql/100): no scan.
    ///
    /// Where the KEK's ids are dense (at least `denseShare` of its id span, the usual case:
    /// every DEK of the store under the KEK being rotated away), the cuts divide the span evenly
    /// without reading a row: no part then holds more than `1 / denseShare` of an even share.
    /// Otherwise (DEKs of several KEKs interleaved) a cut at every `step`-th id, each one
    /// statement that walks `step` entries of the `(kek_id, id)` index from the last cut
    /// (measured 0.18 µs per DEK, 18 s at 100M, which dense stores no longer pay).
    static func scan(kek: Int32, parts requested: Int?, reader: some RotationReader) throws -> Scanned {
        var (scanned, minID) = try reader.read { connection in
            let row = try connection.query("""
                SELECT COALESCE((SELECT deks FROM kek_dek_counts_current WHERE kek_id = $1), 0),
                       COALESCE((SELECT max(id) FROM data_keys WHERE kek_id = $1), 0),
                       COALESCE((SELECT min(id) FROM data_keys WHERE kek_id = $1), 0)
                """, [kek])[0]
            return (Scanned(kek: kek, deks: try row.decode(0), maxID: try row.decode(1), cuts: []), try row.decode(2) as Int64)
        }
        let parts = Int64(max(requested ?? defaultParts(deks: scanned.deks), 1))
        let span = scanned.maxID - minID + 1
        if scanned.deks > 0, span >= parts, Double(scanned.deks) >= denseShare * Double(span) {
            scanned.cuts = (1..<parts).map { minID - 1 + span / parts * $0 + span % parts * $0 / parts }
            return scanned
        }
        let step = max(1, (scanned.deks + parts - 1) / parts)
        var after: Int64 = 0
        while Int64(scanned.cuts.count) < parts - 1 {
            let cut: Int64? = try reader.read { connection in
                try connection.query("""
                    SELECT id FROM data_keys WHERE kek_id = $1 AND id > $2 AND id <= $3 ORDER BY id OFFSET $4 LIMIT 1
                    """, [kek, after, scanned.maxID, step - 1]).first?.decode(0)
            }
            guard let cut, cut < scanned.maxID else { break }
            scanned.cuts.append(cut)
            after = cut
        }
        return scanned
    }

    /// The parts a KEK's DEKs are split into when the rotation does not say: one per
    /// `minimumDefaultPartDEKs`, from 1 to `maximumDefaultParts`. Each part costs a claim, its
    /// KEKs opened and a first batch rewrapped with nothing in flight (about 17 ms measured on
    /// this 2-core machine, the time one loop takes to move 750 DEKs: 100k DEKs in 8 parts
    /// against 2, five interleaved pairs, medians 2.34 s and 2.24 s), so a part of 50,000 keeps
    /// that under 2% of its own time, and a rotation of 1M DEKs still has 8 parts for as many
    /// worker loops.
    public static func defaultParts(deks: Int64) -> Int {
        Int(min(Int64(maximumDefaultParts), max(1, deks / minimumDefaultPartDEKs)))
    }

    public static let maximumDefaultParts = 8
    public static let minimumDefaultPartDEKs: Int64 = 50_000

    /// The share of its id span a KEK's DEKs must fill for `scan` to cut the span evenly
    /// instead of walking the index: the largest part is then at most 1/0.9 = 1.11 times an
    /// even share.
    public static let denseShare = 0.9

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

/// How the preparation runs its read-only steps. The rotation job gives each step its own
/// read-only transaction and renews its lease between steps, so a store of 100M DEKs (minutes
/// of scanning in all) never holds one statement past the job's statement timeout or one
/// claim past its lease.
public protocol RotationReader {
    func read<T>(_ step: (PostgresConnection) throws -> T) throws -> T
}

/// Every step straight on one connection.
struct ConnectionReader: RotationReader {
    let connection: PostgresConnection
    func read<T>(_ step: (PostgresConnection) throws -> T) throws -> T { try step(connection) }
}
