import Foundation
import KekMigrations
import PostgresClient

/// How the CLI reaches PostgreSQL: `DATABASE_URL` (or `DATABASE_URL_FILE`), else libpq's own
/// `PG*` variables (`PGHOST`, `PGUSER`, `PGDATABASE`, `PGPASSFILE`...), which libpq reads
/// itself from an empty connection string.
enum Database {
    static var url: String? {
        try? EnvironmentSecret.value("DATABASE_URL")
    }

    /// The connection string commands use; they never start a server on their own.
    static func requiredURL() throws -> String {
        if let url = try EnvironmentSecret.value("DATABASE_URL") { return url }
        let environment = ProcessInfo.processInfo.environment
        if environment.keys.contains(where: { $0.hasPrefix("PG") && !$0.hasPrefix("PGDATA") }) { return "" }
        throw CommandFailure("DATABASE_URL is not set; export it (e.g. postgresql://user@host:5432/db), set DATABASE_URL_FILE, "
            + "or set libpq's PGHOST/PGUSER/PGDATABASE; or try 'kek demo', which starts a throwaway PostgreSQL")
    }

    /// Every transaction of every connection this process opens gets `lock_timeout`
    /// (`KEK_LOCK_TIMEOUT`, default 10s), transaction-local: a lock held by another session
    /// fails the statement with an error naming it instead of hanging the command.
    static func applyLockTimeout() {
        var settings = TransactionDefaults.settings
        if let value = ProcessInfo.processInfo.environment["KEK_LOCK_TIMEOUT"], !value.isEmpty { settings["lock_timeout"] = value }
        TransactionDefaults.settings = settings
    }

    static func connect() throws -> PostgresConnection {
        try PostgresConnection(try requiredURL())
    }

    /// The migrations this binary applies: those compiled into it, or the folder named by
    /// `KEK_SQL_DIR` when that is set. Never a `sql/` found in the working directory.
    static func migrator() throws -> SchemaMigrator {
        if let folder = ProcessInfo.processInfo.environment["KEK_SQL_DIR"], !folder.isEmpty {
            return try SchemaMigrator(directory: folder)
        }
        return try SchemaMigrator(files: KekMigrations.files)
    }

    static func migrate(_ connection: PostgresConnection) throws -> SchemaMigrator.Report {
        try migrator().migrate(connection)
    }

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
