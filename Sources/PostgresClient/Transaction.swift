extension PostgresConnection {
    /// Runs `body` inside `BEGIN ... COMMIT`; a thrown error rolls everything back.
    ///
    /// A transaction that the server aborted (an error swallowed inside `body`) would
    /// otherwise "commit" as a silent rollback; that is reported as an error instead.
    /// Transactions do not nest: calling this inside another is a usage error.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        guard !inTransaction else {
            throw PostgresError(.usage, message: "a transaction is already open on this connection")
        }
        try execute("BEGIN")
        let value: T
        do {
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
}
