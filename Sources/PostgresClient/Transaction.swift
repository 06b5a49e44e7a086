/// One setting applied with `set_config(name, value, true)`: it lasts until the end of the
/// transaction it was set in, so it can never leak to the next user of a pooled server
/// connection. Values are parameters, never spliced into SQL.
public struct TransactionSetting: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `statement_timeout` in milliseconds.
    public static func statementTimeout(milliseconds: Int) -> TransactionSetting {
        TransactionSetting("statement_timeout", "\(milliseconds)ms")
    }

    /// `lock_timeout` in milliseconds.
    public static func lockTimeout(milliseconds: Int) -> TransactionSetting {
        TransactionSetting("lock_timeout", "\(milliseconds)ms")
    }
}

/// How a transaction starts: the default, or one consistent read-only snapshot (reports).
public enum TransactionMode: String, Sendable {
    case readWrite = "BEGIN"
    case snapshotReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
}

extension PostgresConnection {
    /// Runs `body` inside `BEGIN ... COMMIT`; a thrown error rolls everything back.
    ///
    /// A connection found lost before the transaction starts is opened again first (nothing
    /// has happened yet, so that is always safe, and one `BEGIN` lost to a dead socket is
    /// retried once on the new one). A connection lost inside `body` is never reopened
    /// behind its back: the error is thrown and the server has rolled the work back.
    /// `transactionSettings`, then `settings`, are applied transaction-locally right after
    /// `BEGIN`. A transaction that the server aborted (an error swallowed inside `body`)
    /// would otherwise "commit" as a silent rollback; that is reported as an error instead.
    /// Transactions do not nest: calling this inside another is a usage error.
    @discardableResult
    public func transaction<T>(_ mode: TransactionMode = .readWrite, settings: [TransactionSetting] = [],
                               _ body: () throws -> T) throws -> T {
        try reconnectIfNeeded()
        guard !inTransaction, !insideTransactionBlock else {
            throw PostgresError(.usage, message: "a transaction is already open on this connection")
        }
        do {
            try execute(mode.rawValue)
        } catch let error as PostgresError where error.kind == .connectionLost {
            try reconnectIfNeeded()
            try execute(mode.rawValue)
        }
        insideTransactionBlock = true
        defer { insideTransactionBlock = false }
        let value: T
        do {
            try apply(transactionSettings + settings)
            value = try body()
        } catch {
            if inTransaction && !isBroken { _ = try? execute("ROLLBACK") }
            throw error
        }
        guard try run("COMMIT", []).commandStatus == "COMMIT" else {
            throw PostgresError(.server, message: "transaction was aborted by an earlier error and rolled back")
        }
        return value
    }

    private func apply(_ settings: [TransactionSetting]) throws {
        guard !settings.isEmpty else { return }
        try execute("SELECT set_config(s.name, s.value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)",
                    [PostgresArray(settings.map(\.name)), PostgresArray(settings.map(\.value))])
    }
}
