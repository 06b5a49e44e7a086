import Foundation
import PostgresClient
import ThrowawayPostgres

/// How the CLI reaches PostgreSQL: `DATABASE_URL`, or for the demo a throwaway cluster.
enum Database {
    static var url: String? {
        ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The connection string commands use; they never start a server on their own.
    static func requiredURL() throws -> String {
        guard let url else {
            throw CommandFailure("DATABASE_URL is not set; export it (e.g. postgresql://user@host:5432/db) "
                + "or try 'kek demo', which starts a throwaway PostgreSQL")
        }
        return url
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

    /// Applies the migrations shipped with this binary.
    static func migrate(_ connection: PostgresConnection) throws -> SchemaMigrator.Report {
        try SchemaMigrator(directory: try SQLDirectory.locate()).migrate(connection)
    }
}

/// Finds the `sql/` folder of migrations that ships with this binary.
enum SQLDirectory {
    /// `KEK_SQL_DIR`, then `share/kek/sql` beside an installed binary, then the repository's
    /// `sql/` above the build folder, then `./sql`.
    static func locate() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["KEK_SQL_DIR"] { candidates.append(explicit) }
        var folder = URL(fileURLWithPath: executablePath()).deletingLastPathComponent()
        candidates.append(folder.appendingPathComponent("../share/kek/sql").path)
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent("sql").path)
            folder.deleteLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/sql")
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate + "/001_key_store.sql") {
            return URL(fileURLWithPath: candidate).standardizedFileURL.path
        }
        throw CommandFailure("cannot find the sql/ migrations folder; set KEK_SQL_DIR to it")
    }

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
