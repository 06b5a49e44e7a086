import Foundation
import PostgresClient

/// One database connection used by the HTTP handler threads in turn, for the rare writes
/// (a rotation request, an audit row for a refused request).
///
/// libpq connections must not be used by two threads at once, so every use holds a lock;
/// reads never come here (they are served from the snapshot). Every transaction (and every
/// statement sent on its own, which gets one) runs under a transaction-local
/// `statement_timeout`: nothing is set for the session, so a pooler never passes it on. A
/// lost connection is reopened by the next use.
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
            if let db = connection, db.inTransaction || db.isBroken { connection = nil }
            throw error
        }
    }

    private func open() throws -> PostgresConnection {
        let db = try PostgresConnection(url)
        db.transactionSettings["statement_timeout"] = "\(statementTimeoutMilliseconds)ms"
        return db
    }
}
