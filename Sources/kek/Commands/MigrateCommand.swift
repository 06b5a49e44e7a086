import PostgresClient

extension Command {
    static let migrate = Command(
        name: "migrate",
        abstract: "Apply the schema migrations in sql/ that the database lacks.",
        discussion: """
            Each file runs in its own transaction and is recorded with its checksum in
            schema_migrations. Re-running is a no-op; an applied file that changed is refused.
            Needs DATABASE_URL.
            """,
        run: { _ in
            let connection = try Database.connect()
            let report = try Database.migrate(connection)
            for name in report.applied { print("applied \(name)") }
            print("schema at version \(report.currentVersion) (\(report.applied.count) applied, \(report.alreadyApplied) already applied)")
        }
    )

    static let version = Command(
        name: "version",
        abstract: "Print kek's version and the schema version it ships.",
        run: { _ in
            let migrations = try SchemaMigrator(directory: try SQLDirectory.locate())
            print("kek \(KekVersion.current) (schema \(migrations.latestVersion))")
        }
    )
}

enum KekVersion {
    static let current = "0.1.0"
}
