internal import CLibPQ

/// A statement on its way to the server whose result is read later (`PostgresConnection.send`),
/// so that the caller can work while the server executes it: a rotation encodes its last batch
/// while the server reads the next one, and rewraps that one while the server writes the last.
///
/// One statement is in flight at a time: any other call on the connection first waits for it
/// and keeps its outcome here, error included, for its owner to read. Rows are turned into
/// Swift values only when `rows()` asks, so a caller can send its next statement first. Not
/// `Sendable`, like the connection it belongs to.
public final class PendingStatement {
    private weak var connection: PostgresConnection?
    /// The server's result once read (checked: an error is kept as the failure).
    private var result: Result<OpaquePointer?, any Error>?
    private var converted: [Row]?

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    deinit {
        if case .success(let raw)? = result { PQclear(raw) }
    }

    /// Waits until the server has finished the statement, without decoding its rows.
    public func finish() throws {
        _ = try raw()
    }

    /// Waits until the server has finished the statement; returns how many rows it changed.
    public func affectedRows() throws -> Int {
        Int(String(cString: PQcmdTuples(try raw()))) ?? 0
    }

    /// Waits until the server has finished the statement; returns its rows.
    public func rows() throws -> [Row] {
        if let converted { return converted }
        let rows = PostgresConnection.rows(of: try raw())
        converted = rows
        return rows
    }

    private func raw() throws -> OpaquePointer? {
        if let result { return try result.get() }
        let read = Result { () throws -> OpaquePointer? in
            guard let connection else {
                throw PostgresError(.usage, message: "the statement's connection was closed before its result was read")
            }
            return try connection.collect(self)
        }
        result = read
        return try read.get()
    }
}

/// Statement parameters encoded ahead of `send`, so the encoding can overlap other work.
public struct PostgresParameters {
    let encoded: [(oid: UInt32, bytes: [UInt8]?)]

    public init(_ values: [any PostgresEncodable]) throws {
        encoded = try PostgresConnection.encode(values)
    }
}

extension PostgresConnection {
    /// Sends one parameterized statement and returns without waiting for it to run; the
    /// `PendingStatement` gives its outcome. Only inside `transaction {}`: a statement on its own
    /// would get no transaction-local settings, and a lost connection must fail the transaction
    /// it belonged to, never be reopened behind its back.
    public func send(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> PendingStatement {
        try send(sql, try PostgresParameters(parameters))
    }

    /// `send` with parameters encoded beforehand.
    public func send(_ sql: String, _ parameters: PostgresParameters) throws -> PendingStatement {
        guard insideTransactionBlock, inTransaction else {
            throw PostgresError(.usage, message: "send runs a statement inside transaction {}, not on its own")
        }
        finishPending()
        try reconnectIfNeeded()
        let encoded = parameters.encoded
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
        try? statement.finish()
    }

    /// The result of the statement in flight, checked: its one result, then the NULL that ends it.
    fileprivate func collect(_ statement: PendingStatement) throws -> OpaquePointer? {
        defer { if pending === statement { pending = nil } }
        var first: OpaquePointer?
        while let result = PQgetResult(handle) {
            if first == nil { first = result } else { PQclear(result) }
        }
        do {
            try check(first)
        } catch {
            PQclear(first)
            throw error
        }
        return first
    }
}
