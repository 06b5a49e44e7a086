import Foundation
import PostgresClient

/// One database connection used by the HTTP handler threads in turn, for the rare writes
/// (a rotation request, an audit row for a refused request).
///
/// libpq connections must not be used by two threads at once, so every use holds a lock;
/// reads never come here (they are served from the snapshot). A failed use drops the
/// connection so the next one starts clean.
final class SharedConnection: @unchecked Sendable {
    private let url: String
    private let statementTimeoutMilliseconds: Int
    private let lock = NSLock()
    private var connection: PostgresConnection?

    init(url: String, statementTimeoutMilliseconds: Int) {
        self.url = url
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
    }

    func with<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            let db = try connection ?? open()
            connection = db
            return try body(db)
        } catch {
            connection = nil
            throw error
        }
    }

    private func open() throws -> PostgresConnection {
        let db = try PostgresConnection(url)
        try db.execute("SELECT set_config('statement_timeout', $1, false)", ["\(statementTimeoutMilliseconds)ms"])
        try db.execute("SELECT set_config('application_name', 'kek-status', false)")
        return db
    }
}
