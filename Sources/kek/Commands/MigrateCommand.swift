import Foundation
import PostgresClient

extension Command {
    static let migrate = Command.typed(
        "migrate",
        abstract: "Apply the schema migrations built into this binary that the database lacks.",
        discussion: """
            The migrations are compiled into kek from the repository's sql/ folder; no SQL is read
            from the working directory (KEK_SQL_DIR=DIR applies that folder's files instead).
            Each file runs in its own transaction and is recorded with its checksum in
            schema_migrations. Re-running is a no-op; an applied file that changed is refused.
            Needs DATABASE_URL (or DATABASE_URL_FILE, or libpq's PG* variables).
            """,
        options: MigrateOptions.self,
        run: { options in
            let connection = try Database.connect()
            let report: SchemaMigrator.Report
            do {
                report = try Database.migrate(connection)
            } catch let error as PostgresError where error.sqlState == .insufficientPrivilege {
                // A worker login, or an owner without the group roles, gets a bare 42501.
                throw CommandFailure("\(error); kek migrate runs as the login that owns the schema, with the roles "
                    + "kek_worker and kek_app created beforehand (runbooks/database-roles.md, section 1)")
            }
            if options.json {
                return try Output.json(MigrationResult(applied: report.applied, alreadyApplied: report.alreadyApplied,
                                                            schemaVersion: report.currentVersion))
            }
            for name in report.applied { print("applied \(name)") }
            print("schema at version \(report.currentVersion) (\(report.applied.count) applied, \(report.alreadyApplied) already applied)")
        }
    )

    static let version = Command.typed(
        "version",
        abstract: "Print kek's version and the schema version it ships.",
        options: VersionOptions.self,
        run: { options in
            let migrator = try Database.migrator()
            if options.json {
                return try Output.json(VersionInfo(version: KekVersion.current, schemaVersion: migrator.latestVersion,
                                                        migrations: migrator.migrations.map(\.name)))
            }
            print(KekVersion.line(schemaVersion: migrator.latestVersion))
        }
    )
}

enum KekVersion {
    static let current = "0.1.0"

    static func line(schemaVersion: Int) -> String { "kek \(current) (schema \(schemaVersion))" }
}

/// `kek migrate --json`.
struct MigrationResult: Encodable {
    var applied: [String]
    var alreadyApplied: Int
    var schemaVersion: Int

    private enum CodingKeys: String, CodingKey { case applied, alreadyApplied = "already_applied", schemaVersion = "schema_version" }
}

/// `kek version --json`.
struct VersionInfo: Encodable {
    var version: String
    var schemaVersion: Int
    var migrations: [String]

    private enum CodingKeys: String, CodingKey { case version, migrations, schemaVersion = "schema_version" }
}

/// `kek migrate`'s options.
struct MigrateOptions: CommandOptions {
    var json = false
    static let fields: [OptionField<Self>] = [.flag("json", "Print JSON: applied, already_applied, schema_version.", \.json)]
}

/// `kek version`'s options.
struct VersionOptions: CommandOptions {
    var json = false
    static let fields: [OptionField<Self>] = [.flag("json", "Print JSON: version, schema_version, migrations.", \.json)]
}
