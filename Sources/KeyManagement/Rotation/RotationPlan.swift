import Foundation
import PostgresClient

/// What a rotation would touch, computed without writing anything (`kek rotate --plan`), and
/// the decision both the plan and the rotation itself take: generate a new KEK, or only move
/// the DEKs of `decrypt_only` KEKs to the active one (`--rewrap-only`, and what a plain
/// rotation does while an earlier rotation or `kek keys activate` left DEKs behind).
public struct RotationPlan: Codable, Sendable {
    public struct KEKLine: Codable, Sendable {
        public var id: Int32
        public var state: KEKState
        public var deks: Int64
        public var wrapCount: Int64
        /// Wraps left before the configured limit.
        public var wrapHeadroom: Int64

        enum CodingKeys: String, CodingKey { case id, state, deks, wrapCount = "wrap_count", wrapHeadroom = "wrap_headroom" }
    }

    /// A project whose secrets or signing keys the rotation would touch (`kek rotate --plan` only).
    public struct ProjectLine: Codable, Sendable {
        public var projectId: UUID
        public var secrets: Int64
        public var signingKeys: Int64

        enum CodingKeys: String, CodingKey { case secrets, projectId = "project_id", signingKeys = "signing_keys" }
    }

    /// Every KEK whose DEKs the rotation moves (the active one and any `decrypt_only`, or
    /// only the `decrypt_only` ones when it generates no KEK).
    public var keks: [KEKLine]
    /// Filled only when `make` is asked to list projects (`kek rotate --plan`); empty otherwise.
    public var projects: [ProjectLine]
    public var deksToRewrap: Int64
    /// Rows per second of the last finished rotation, when there was one.
    public var measuredRate: Double?
    public var estimatedSeconds: Double?
    public var wrapLimit: Int64
    /// False when the DEKs move to the active KEK without a new KEK being generated.
    public var generatesKek: Bool
    /// The KEK the DEKs move to; null for the KEK a rotation would generate.
    public var targetKek: Int32?
    /// Wraps the target KEK has left (the whole limit for a new KEK).
    public var targetHeadroom: Int64
    /// True when the target's budget holds every DEK to move; a rotation that does not fit is refused.
    public var fits: Bool { deksToRewrap <= targetHeadroom }

    /// The keys of `kek rotate --plan --json`.
    enum CodingKeys: String, CodingKey {
        case keks, projects
        case deksToRewrap = "deks_to_rewrap", measuredRate = "measured_rate", estimatedSeconds = "estimated_seconds"
        case wrapLimit = "wrap_limit", generatesKek = "generates_kek", targetKek = "target_kek", targetHeadroom = "target_headroom"
    }

    /// Throws `wrapBudgetTooSmall` when the target KEK's wrap budget cannot hold every DEK.
    public func checkBudget() throws {
        guard fits else {
            throw KeyManagementError.wrapBudgetTooSmall(kekID: targetKek, deks: deksToRewrap, headroom: targetHeadroom, limit: wrapLimit)
        }
    }

    /// `rewrapOnly` true: never generate; false: always generate; nil: generate unless a
    /// `decrypt_only` KEK still wraps DEKs (then finish moving those first).
    ///
    /// `listingProjects` adds the projects the DEKs belong to, for an operator reading the plan.
    /// It joins every DEK to move with its secret or signing key (measured: 0.82 s per 1M DEKs,
    /// about 80 s at 100M at that rate, past the job's 60 s statement timeout), which is why
    /// neither the rotation job nor the check before enqueueing asks for it: the decision and
    /// the budget need only the maintained counts.
    public static func make(_ connection: PostgresConnection, rewrapOnly: Bool? = nil,
                            listingProjects: Bool = false) throws -> RotationPlan {
        let limit = try KEKPolicy.wrapLimit(connection)
        let all = try connection.query("""
            SELECT k.id, k.state, COALESCE((SELECT c.deks FROM kek_dek_counts_current c WHERE c.kek_id = k.id), 0), kek_wraps(k.id)
            FROM keks k WHERE k.state IN ('active', 'decrypt_only') ORDER BY k.id
            """).map { row in
            let wraps: Int64 = try row.decode(3)
            return KEKLine(id: try row.decode(0), state: try row.decodeCase(1), deks: try row.decode(2), wrapCount: wraps,
                           wrapHeadroom: limit - wraps)
        }
        let active = all.first { $0.state == .active }
        let leftBehind = all.contains { $0.state == .decryptOnly && $0.deks > 0 }
        let generates = !(rewrapOnly ?? leftBehind)
        if !generates && active == nil { throw KeyManagementError.noActiveKEK }
        let keks = generates ? all : all.filter { $0.state == .decryptOnly }
        let projects = listingProjects ? try projects(connection, states: keks.map(\.state)) : []
        let rate: Double? = try connection.query("""
            SELECT (details->>'rows_per_second')::float8 FROM audit_log
            WHERE action = 'rotation.finished' AND (details->>'rows_per_second')::float8 > 0 ORDER BY id DESC LIMIT 1
            """).first?.decode(0)
        let total = keks.reduce(0) { $0 + $1.deks }
        return RotationPlan(keks: keks, projects: projects, deksToRewrap: total, measuredRate: rate,
                            estimatedSeconds: rate.map { Double(total) / $0 }, wrapLimit: limit, generatesKek: generates,
                            targetKek: generates ? nil : active?.id, targetHeadroom: generates ? limit : active?.wrapHeadroom ?? 0)
    }

    /// The projects whose secrets or signing keys sit under a KEK in one of `states`.
    private static func projects(_ connection: PostgresConnection, states: [KEKState]) throws -> [ProjectLine] {
        try connection.query("""
            SELECT project_id, sum(secrets)::int8, sum(signing_keys)::int8 FROM (
                SELECT s.project_id, 1 AS secrets, 0 AS signing_keys FROM project_secrets s
                JOIN data_keys d ON d.id = s.dek_id JOIN keks k ON k.id = d.kek_id WHERE k.state = ANY($1::text[])
                UNION ALL
                SELECT g.project_id, 0, 1 FROM signature_keys g
                JOIN data_keys d ON d.id = g.dek_id JOIN keks k ON k.id = d.kek_id WHERE k.state = ANY($1::text[])
            ) t GROUP BY project_id ORDER BY project_id
            """, [PostgresArray(Array(Set(states.map(\.rawValue))))])
            .map { ProjectLine(projectId: try $0.decode(0), secrets: try $0.decode(1), signingKeys: try $0.decode(2)) }
    }
}
