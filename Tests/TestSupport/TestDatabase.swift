import Foundation
import PostgresClient
import ThrowawayPostgres

/// The private PostgreSQL cluster that the test suite starts for itself, shared by every
/// test of the run; each test asks for a fresh database of its own.
///
/// The cluster is stopped at process exit, and its watchdog removes it even when the
/// test process crashes, so no server outlives `swift test`.
public enum TestDatabase {
    private static let cluster: Result<ThrowawayPostgres, any Error> = {
        let result = Result { try ThrowawayPostgres() }
        atexit { TestDatabase.stopCluster() }
        return result
    }()

    private static let counter = Counter()

    /// Creates an empty database and returns its connection string.
    public static func fresh() throws -> String {
        let cluster = try cluster.get()
        let name = "test_\(getpid())_\(counter.next())"
        let admin = try PostgresConnection(cluster.connectionString)
        try admin.executeScript("CREATE DATABASE \(name)")
        return cluster.connectionString(database: name)
    }

    /// Creates a database with every migration of `sql/` applied.
    public static func migrated() throws -> String {
        let url = try fresh()
        _ = try SchemaMigrator(directory: sqlDirectory).migrate(try PostgresConnection(url))
        return url
    }

    /// PostgreSQL's own log of the suite's cluster (`ThrowawayPostgres` writes it in its directory).
    public static var serverLogPath: String {
        get throws { try cluster.get().directory + "/server.log" }
    }

    /// The repository's `sql/` folder.
    public static var sqlDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../sql").standardizedFileURL.path
    }

    /// The folder the build put the `kek` binary in (beside the test bundle).
    public static var buildDirectory: URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: folder.appendingPathComponent("kek").path) {
            folder.deleteLastPathComponent()
        }
        return folder
    }

    static func stopCluster() {
        if case .success(let cluster) = cluster { cluster.stop() }
    }
}

/// A thread-safe counter for unique names.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
