import Foundation

/// How a transaction begins. Every transaction names its isolation level, so a database whose
/// `default_transaction_isolation` was changed does not silently change what callers get
/// (an audit chain written under REPEATABLE READ would fork, for example).
public enum TransactionMode: Sendable {
    /// `READ COMMITTED`: each statement sees what was committed before it began, and a row
    /// lock waited for returns the row's newest version. What writers use.
    case readCommitted
    /// `REPEATABLE READ, READ ONLY`: one snapshot for a consistent multi-query read.
    case readOnlySnapshot

    var beginStatement: String {
        switch self {
        case .readCommitted: return "BEGIN ISOLATION LEVEL READ COMMITTED"
        case .readOnlySnapshot: return "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        }
    }
}

extension TransactionMode {
    /// Statements that control transactions themselves or cannot run inside one; every other
    /// statement sent outside a transaction is wrapped in one so that `transactionSettings` apply.
    static func mustRunOutsideTransaction(_ sql: String) -> Bool {
        let head = sql.drop { $0.isWhitespace }.prefix(40).uppercased()
        return ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE TRANSACTION",
                "COMMIT PREPARED", "ROLLBACK PREPARED", "SET TRANSACTION", "VACUUM", "CREATE DATABASE", "DROP DATABASE",
                "ALTER SYSTEM", "CREATE INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY", "REINDEX", "CHECKPOINT"]
            .contains { head.hasPrefix($0) }
    }
}

extension PostgresConnection {
    /// Runs `body` inside a transaction; a thrown error rolls everything back.
    ///
    /// Right after `BEGIN` the connection's `transactionSettings` are applied with
    /// `set_config(name, value, true)`: transaction-local, so nothing leaks to the next user of
    /// a pooled server connection (no session-level `SET`). A statement sent outside any
    /// transaction gets a transaction of its own for the same reason (see `run`).
    ///
    /// A transaction that the server aborted (an error swallowed inside `body`) would
    /// otherwise "commit" as a silent rollback; that is reported as an error instead.
    /// Transactions do not nest: calling this inside another is a usage error.
    @discardableResult
    public func transaction<T>(_ mode: TransactionMode = .readCommitted, _ body: () throws -> T) throws -> T {
        guard !inTransaction else {
            throw PostgresError(.usage, message: "a transaction is already open on this connection")
        }
        try execute(mode.beginStatement)
        let value: T
        do {
            try applyTransactionSettings()
            value = try body()
        } catch {
            if inTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
        guard try run("COMMIT", []).commandStatus == "COMMIT" else {
            throw PostgresError(.server, message: "transaction was aborted by an earlier error and rolled back")
        }
        return value
    }

    private func applyTransactionSettings() throws {
        guard !transactionSettings.isEmpty else { return }
        let names = transactionSettings.keys.sorted()
        try query("SELECT set_config(n, v, true) FROM unnest($1::text[], $2::text[]) AS s(n, v)",
                  [PostgresArray(names), PostgresArray(names.map { transactionSettings[$0] ?? "" })])
    }
}

/// Settings every new connection applies at the start of each of its transactions.
///
/// `lock_timeout` by default, so that a lock held by another session (an application's open
/// transaction, say) fails a statement with an error naming what waited instead of hanging it.
/// A program sets this once at startup, before it opens connections.
public enum TransactionDefaults {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stored: [String: String] = ["lock_timeout": "10s"]

    public static var settings: [String: String] {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
