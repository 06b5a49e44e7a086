import Foundation
import PostgresClient

/// What a rotation would touch, computed without writing anything (`kek rotate --plan`).
public struct RotationPlan: Codable, Sendable {
    public struct KEKLine: Codable, Sendable {
        public var id: Int32
        public var state: String
        public var deks: Int64
        public var wrapCount: Int64
        /// Wraps left before the configured limit.
        public var wrapHeadroom: Int64
    }

    public struct ProjectLine: Codable, Sendable {
        public var projectId: UUID
        public var secrets: Int64
        public var signingKeys: Int64
    }

    /// Every KEK whose DEKs the rotation moves (the active one and any `decrypt_only`).
    public var keks: [KEKLine]
    public var projects: [ProjectLine]
    public var deksToRewrap: Int64
    /// Rows per second of the last finished rotation, when there was one.
    public var measuredRate: Double?
    public var estimatedSeconds: Double?
    public var wrapLimit: Int64

    public static func make(_ connection: PostgresConnection) throws -> RotationPlan {
        let limit = KEKPolicy.wrapLimit
        let keks = try connection.query("""
            SELECT k.id, k.state, (SELECT count(*) FROM data_keys d WHERE d.kek_id = k.id), k.wrap_count
            FROM keks k WHERE k.state IN ('active', 'decrypt_only') ORDER BY k.id
            """).map { row in
            let wraps: Int64 = try row.decode(3)
            return KEKLine(id: try row.decode(0), state: try row.decode(1), deks: try row.decode(2), wrapCount: wraps,
                           wrapHeadroom: limit - wraps)
        }
        let projects = try connection.query("""
            SELECT project_id, sum(secrets)::int8, sum(signing_keys)::int8 FROM (
                SELECT s.project_id, 1 AS secrets, 0 AS signing_keys FROM project_secrets s
                JOIN data_keys d ON d.id = s.dek_id JOIN keks k ON k.id = d.kek_id WHERE k.state IN ('active', 'decrypt_only')
                UNION ALL
                SELECT g.project_id, 0, 1 FROM signature_keys g
                JOIN data_keys d ON d.id = g.dek_id JOIN keks k ON k.id = d.kek_id WHERE k.state IN ('active', 'decrypt_only')
            ) t GROUP BY project_id ORDER BY project_id
            """).map { ProjectLine(projectId: try $0.decode(0), secrets: try $0.decode(1), signingKeys: try $0.decode(2)) }
        let rate: Double? = try connection.query("""
            SELECT (details->>'rows_per_second')::float8 FROM audit_log
            WHERE action = 'rotation.finished' AND (details->>'rows_per_second')::float8 > 0 ORDER BY id DESC LIMIT 1
            """).first?.decode(0)
        let total = keks.reduce(0) { $0 + $1.deks }
        return RotationPlan(keks: keks, projects: projects, deksToRewrap: total, measuredRate: rate,
                            estimatedSeconds: rate.map { Double(total) / $0 }, wrapLimit: limit)
    }
}
