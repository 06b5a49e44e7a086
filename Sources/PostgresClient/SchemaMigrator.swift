import Foundation

/// Applies numbered plain-SQL migrations (`001_name.sql`, `002_name.sql`, ...) in order.
///
/// Each file runs in its own transaction and is recorded in `schema_migrations` with a
/// SHA-256 of its text, so a re-run is a no-op and a file edited after it was applied is
/// refused rather than silently diverging from the databases that ran the old text.
///
/// Migrators started at once take turns on a transaction-scoped lock: each file's
/// transaction first locks `schema_migrations` (EXCLUSIVE: plain reads of the version
/// still pass), then checks and applies. Nothing is held across transactions, so this works
/// through a transaction-pooling PgBouncer, where a session advisory lock would be taken
/// and released on different server sessions.
public struct SchemaMigrator {
    /// One file of the migration folder.
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    /// What a run did.
    public struct Report: Sendable {
        public var applied: [String]
        public var alreadyApplied: Int
        public var currentVersion: Int
    }

    public let migrations: [Migration]

    /// Reads every `NNN_name.sql` of `directory` (tests, and an explicit `KEK_SQL_DIR`).
    public init(directory: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }
        try self.init(files: try names.map { ($0, try String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8)) })
    }

    /// Migrations given as (file name, SQL text) pairs, e.g. the ones embedded in the binary;
    /// sorted by name here. A name without a leading number, or a duplicate number, is an error.
    public init(files: [(name: String, sql: String)]) throws {
        var seen: [Int: String] = [:]
        migrations = try files.sorted { $0.name < $1.name }.map { file, sql in
            guard let version = Int(file.prefix { $0.isNumber }), file.first?.isNumber == true else {
                throw PostgresError(.usage, message: "migration file \(file) does not start with a number (NNN_name.sql)")
            }
            if let other = seen[version] {
                throw PostgresError(.usage, message: "migrations \(other) and \(file) share the number \(version)")
            }
            seen[version] = file
            return Migration(version: version, name: file, sql: sql)
        }
    }

    /// The highest version this program ships; a database below it is not ready.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration not yet applied.
    public func migrate(_ connection: PostgresConnection) throws -> Report {
        try Self.createTable(connection)
        var report = Report(applied: [], alreadyApplied: 0, currentVersion: 0)
        for migration in migrations {
            let applied = try connection.transaction {
                try connection.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                return try apply(migration, connection)
            }
            if applied { report.applied.append(migration.name) } else { report.alreadyApplied += 1 }
            report.currentVersion = migration.version
        }
        return report
    }

    /// Applies one migration unless it already was (checksum checked); true when applied now.
    private func apply(_ migration: Migration, _ connection: PostgresConnection) throws -> Bool {
        let checksum = try Self.checksum(of: migration.sql, on: connection)
        let recorded = try connection.query("SELECT checksum FROM schema_migrations WHERE version = $1", [migration.version])
        if let row = recorded.first {
            let applied: String = try row.decode(0)
            guard applied == checksum else {
                throw PostgresError(
                    .usage,
                    message: "migration \(migration.name) was changed after it was applied (checksum \(applied.prefix(12)) "
                        + "recorded, \(checksum.prefix(12)) on disk)",
                    hint: "restore the original file and put the change in a new, higher-numbered migration")
            }
            return false
        }
        do {
            try connection.executeScript(migration.sql)
        } catch var error as PostgresError where error.kind == .server {
            // The server's message alone ("permission denied to create role") does not say
            // which of the built-in files failed; the operator needs that to act on it.
            error.message = "migration \(migration.name) failed, nothing of it was applied: " + error.message
            throw error
        }
        try connection.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                               [migration.version, migration.name, checksum])
        return true
    }

    /// Creates the bookkeeping table; two migrators racing on a new database both succeed
    /// (the loser of the catalog race sees a unique violation, and the table exists then).
    private static func createTable(_ connection: PostgresConnection) throws {
        let create = """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        do {
            try connection.execute(create)
        } catch let error as PostgresError
                    where error.sqlState == .uniqueViolation || error.sqlState == "42P07" || error.sqlState == "42710" {
            // Concurrent first migrations race on the catalog: the loser sees a unique violation,
            // "relation exists" or (for the table's row type) "type exists"; the second try sees the table.
            try connection.execute(create)
        }
    }

    /// The version the database is at (0 when never migrated).
    public static func currentVersion(_ connection: PostgresConnection) throws -> Int {
        let exists: Bool = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].decode(0)
        guard exists else { return 0 }
        return try connection.query("SELECT coalesce(max(version), 0)::int8 FROM schema_migrations")[0].decode(0)
    }

    private static func checksum(of sql: String, on connection: PostgresConnection) throws -> String {
        try connection.query("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", [sql])[0].decode(0)
    }
}
