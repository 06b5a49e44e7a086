internal import CLibPQ

/// A statement on its way to the server whose result is read later (`PostgresConnection.send`),
/// so that the caller can work while the server executes it: a rotation rewraps its next batch
/// in memory while the server writes the last one.
///
/// One statement is in flight at a time: any other call on the connection first waits for it
/// and keeps its outcome here, error included, for its owner to read. Not `Sendable`, like the
/// connection it belongs to.
public final class PendingStatement {
    private weak var connection: PostgresConnection?
    private var outcome: Result<PostgresConnection.Outcome, any Error>?

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Waits until the server has finished the statement; returns how many rows it changed.
    public func affectedRows() throws -> Int { try wait().affectedRows }

    /// Waits until the server has finished the statement; returns its rows.
    public func rows() throws -> [Row] { try wait().rows }

    func wait() throws -> PostgresConnection.Outcome {
        if let outcome { return try outcome.get() }
        let result = Result { () throws -> PostgresConnection.Outcome in
            guard let connection else {
                throw PostgresError(.usage, message: "the statement's connection was closed before its result was read")
            }
            return try connection.collect(self)
        }
        outcome = result
        return try result.get()
    }
}

extension PostgresConnection {
    /// Sends one parameterized statement and returns without waiting for it to run; the
    /// `PendingStatement` gives its outcome. Only inside `transaction {}`: a statement on its own
    /// would get no transaction-local settings, and a lost connection must fail the transaction
    /// it belonged to, never be reopened behind its back.
    public func send(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> PendingStatement {
        guard insideTransactionBlock, inTransaction else {
            throw PostgresError(.usage, message: "send runs a statement inside transaction {}, not on its own")
        }
        finishPending()
        try reconnectIfNeeded()
        let encoded = try Self.encode(parameters)
        lastStatement = sql
        let sent = ParameterBuffers.with(encoded) { types, values, lengths, formats in
            PQsendQueryParams(handle, sql, Int32(encoded.count), types, values, lengths, formats, 1)
        }
        guard sent == 1 else {
            throw PostgresError(isBroken ? .connectionLost : .usage,
                                message: "could not send a statement to \(target): \(Self.lastError(handle))")
        }
        let statement = PendingStatement(connection: self)
        pending = statement
        return statement
    }

    /// Reads the outcome of the statement in flight, if there is one, so that the connection
    /// can take the next; the outcome stays with the `PendingStatement` for its owner.
    func finishPending() {
        guard let statement = pending else { return }
        _ = try? statement.wait()
    }

    /// Every result of the statement in flight: its one result, then the NULL that ends it.
    fileprivate func collect(_ statement: PendingStatement) throws -> Outcome {
        defer { if pending === statement { pending = nil } }
        var first: OpaquePointer?
        while let result = PQgetResult(handle) {
            if first == nil { first = result } else { PQclear(result) }
        }
        defer { PQclear(first) }
        return try outcome(of: first)
    }
}
