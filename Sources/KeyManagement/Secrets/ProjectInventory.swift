import Foundation
import PostgresClient

/// The projects the store knows of: a project is the `project_id` its secrets, signing keys
/// and env imports carry (there is no projects table), so this is what finds an id.
public struct ProjectInventory: Codable, Sendable {
    public struct Project: Codable, Sendable {
        public var projectId: UUID
        public var secrets: Int64
        public var signingKeys: Int64
        public var envImports: Int64
        /// The newest env import, when any.
        public var lastImportAt: Date?

        /// The keys of `kek projects list --json`.
        enum CodingKeys: String, CodingKey {
            case secrets
            case projectId = "project_id", signingKeys = "signing_keys", envImports = "env_imports", lastImportAt = "last_import_at"
        }
    }

    public var projects: [Project]

    public static func list(_ connection: PostgresConnection) throws -> ProjectInventory {
        let rows = try connection.query("""
            SELECT project_id, sum(secrets)::int8, sum(signing_keys)::int8, sum(imports)::int8, max(at)
              FROM (SELECT project_id, 1 AS secrets, 0 AS signing_keys, 0 AS imports, NULL::timestamptz AS at
                      FROM project_secrets
                    UNION ALL
                    SELECT project_id, 0, 1, 0, NULL FROM signature_keys
                    UNION ALL
                    SELECT project_id, 0, 0, 1, finished_at FROM env_imports) t
             GROUP BY project_id ORDER BY project_id
            """)
        return ProjectInventory(projects: try rows.map { row in
            Project(projectId: try row.decode(0), secrets: try row.decode(1), signingKeys: try row.decode(2),
                    envImports: try row.decode(3), lastImportAt: try row.decode(4))
        })
    }
}
