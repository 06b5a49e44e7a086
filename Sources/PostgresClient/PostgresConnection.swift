internal import CLibPQ
import Foundation

/// One libpq connection, owned by one thread of work.
///
/// libpq calls block and a `PGconn` must never be used by two threads at once, so this
/// class is deliberately not `Sendable`: each worker loop opens its own, on its own thread,
/// and never from Swift's cooperative pool. A connection that was lost (server restart,
/// `pg_terminate_backend`) fails the call in flight with `.connectionLost` and is
/// re-established on the next call, with its `LISTEN`s issued again (a multi-host
/// connection string with `target_session_attrs=read-write` then finds the new primary).
///
/// Nothing is ever set for the session: behind a transaction-pooling PgBouncer a session
/// `SET` would leak to other clients of the pool. Server notices are filtered on this side
/// instead of with `client_min_messages`; per-transaction settings go through
/// `transactionSettings` (see `Transaction.swift`). No `application_name` is sent either:
/// PgBouncer hands a server session's name on to the next client that sends none, so an
/// operator who wants one puts `application_name=` in the connection string.
public final class PostgresConnection {
    var handle: OpaquePointer?
    private var listenedChannels: [String] = []
    private var needsReset = false
    var lastStatement = ""
    /// A statement sent with `send` whose result nobody has read yet; the next call reads it first.
    var pending: PendingStatement?
    /// True between `BEGIN` and its end in `transaction {}`: a connection lost then must
    /// not be silently re-opened, or the rest of the body would run outside the transaction.
    var insideTransactionBlock = false
    /// Applied with `set_config(..., true)` at the start of every `transaction` (see there):
    /// transaction-local, so they never outlive it or leak through a pooler.
    public var transactionSettings: [String: String] = TransactionDefaults.settings

    /// Opens a connection from a libpq connection string or a `postgresql://` URI.
    /// On failure the error names the host, port and database, never the password.
    public init(_ connectionString: String) throws {
        let conn = PQconnectdb(connectionString)
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let error = PostgresError(
                .connection,
                message: "could not connect to \(Self.describeTarget(conn)): \(Self.lastError(conn))",
                hint: "check DATABASE_URL (host, port, database, user) and that the server is running"
            )
            PQfinish(conn)
            throw error
        }
        handle = conn
        Self.filterNotices(conn)
    }

    /// Server notices (NOTICE, INFO) are dropped; warnings go to stderr, as libpq would print them.
    private static func filterNotices(_ conn: OpaquePointer) {
        PQsetNoticeProcessor(conn, { _, message in
            guard let message else { return }
            let text = String(cString: message)
            if text.hasPrefix("WARNING") { FileHandle.standardError.write(Data(text.utf8)) }
        }, nil)
    }

    deinit { PQfinish(handle) }

    /// `host:port/database` of this connection, for messages.
    public var target: String { Self.describeTarget(handle) }

    /// The server process serving this connection (for `pg_terminate_backend` in tests and logs).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// True while a transaction block is open on this connection. A lost connection
    /// (`PQTRANS_UNKNOWN`) has no transaction: the server rolled it back when the session ended.
    public var inTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// True when the connection is known to be broken; the next call reconnects.
    public var isBroken: Bool { needsReset || PQstatus(handle) != CONNECTION_OK }

    // MARK: - Queries

    /// Runs one parameterized statement and returns its rows.
    ///
    /// There is no way to splice values into SQL here: every value is a `$n` parameter.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> [Row] {
        try run(sql, parameters).rows
    }

    /// Runs one parameterized statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        try run(sql, parameters).affectedRows
    }

    /// Runs a script of several statements with no parameters (schema migrations).
    /// Only for trusted SQL shipped with the program, never for anything built from input.
    public func executeScript(_ sql: String) throws {
        finishPending()
        try reconnectIfNeeded()
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result)
    }

    struct Outcome {
        var rows: [Row]
        var affectedRows: Int
        var commandStatus: String
    }

    func run(_ sql: String, _ parameters: [any PostgresEncodable]) throws -> Outcome {
        if !transactionSettings.isEmpty, !inTransaction, !TransactionMode.mustRunOutsideTransaction(sql) {
            // A statement on its own gets the transaction-local settings too (lock_timeout).
            return try transaction { try runStatement(sql, parameters) }
        }
        return try runStatement(sql, parameters)
    }

    private func runStatement(_ sql: String, _ parameters: [any PostgresEncodable]) throws -> Outcome {
        finishPending()
        try reconnectIfNeeded()
        let encoded = try Self.encode(parameters)
        lastStatement = sql
        let result = ParameterBuffers.with(encoded) { types, values, lengths, formats in
            PQexecParams(handle, sql, Int32(encoded.count), types, values, lengths, formats, 1)
        }
        defer { PQclear(result) }
        return try outcome(of: result)
    }

    static func encode(_ parameters: [any PostgresEncodable]) throws -> [(oid: UInt32, bytes: [UInt8]?)] {
        guard parameters.count <= 65_535 else {
            throw PostgresError(.usage, message: "\(parameters.count) parameters; PostgreSQL accepts at most 65535 (send an array instead)")
        }
        return parameters.map { (type(of: $0).postgresTypeOID, $0.postgresBinary()) }
    }

    /// The rows and counts of a finished statement, or its error.
    func outcome(of result: OpaquePointer?) throws -> Outcome {
        try check(result)
        return Outcome(
            rows: Self.rows(of: result),
            affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0,
            commandStatus: String(cString: PQcmdStatus(result))
        )
    }

    func check(_ result: OpaquePointer?) throws {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            if PQstatus(handle) != CONNECTION_OK {
                needsReset = true
                throw PostgresError(.connectionLost, message: "connection to \(target) lost: \(Self.lastError(handle))")
            }
            throw Self.serverError(result, fallback: Self.lastError(handle)).namingLockWait(statement: lastStatement)
        }
    }

    private static func serverError(_ result: OpaquePointer?, fallback: String) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let result, let text = PQresultErrorField(result, code) else { return nil }
            return String(cString: text)
        }
        return PostgresError(
            .server,
            sqlState: field(CLibPQ_DIAG_SQLSTATE).map { SQLState($0) },
            message: field(CLibPQ_DIAG_MESSAGE_PRIMARY) ?? fallback,
            detail: field(CLibPQ_DIAG_MESSAGE_DETAIL),
            hint: field(CLibPQ_DIAG_MESSAGE_HINT)
        )
    }

    static func rows(of result: OpaquePointer?) -> [Row] {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        guard rowCount > 0 else { return [] }
        let columns = Columns(
            names: (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) },
            typeOIDs: (0..<columnCount).map { UInt32(PQftype(result, Int32($0))) }
        )
        var lengths: [Int32] = []
        lengths.reserveCapacity(rowCount * columnCount)
        var total = 0
        for r in 0..<Int32(rowCount) {
            for c in 0..<Int32(columnCount) {
                let length = PQgetisnull(result, r, c) == 1 ? -1 : PQgetlength(result, r, c)
                lengths.append(length)
                total += Int(max(length, 0))
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(total)
        var starts: [Int] = []
        starts.reserveCapacity(lengths.count)
        for r in 0..<Int32(rowCount) {
            for c in 0..<Int32(columnCount) {
                starts.append(bytes.count)
                let length = Int(lengths[Int(r) * columnCount + Int(c)])
                guard length > 0 else { continue }
                PQgetvalue(result, r, c).withMemoryRebound(to: UInt8.self, capacity: length) {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
            }
        }
        return ResultValues(columns: columns, rowCount: rowCount, bytes: bytes, starts: starts, lengths: lengths).rows
    }

    // MARK: - Connection state

    /// Opens the connection again when it was lost; a no-op on a healthy one.
    /// `PQreset` keeps the original options, so a multi-host string tries every host again.
    func reconnectIfNeeded() throws {
        guard isBroken else { return }
        guard !insideTransactionBlock else {
            throw PostgresError(.connectionLost, message: "connection to \(target) lost inside a transaction; "
                + "the server rolled it back")
        }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(.connectionLost, message: "could not reconnect to \(target): \(Self.lastError(handle))")
        }
        needsReset = false
        for channel in listenedChannels { try executeScript("LISTEN " + (try quoteIdentifier(channel))) }
    }

    func quoteIdentifier(_ name: String) throws -> String {
        guard let quoted = PQescapeIdentifier(handle, name, name.utf8.count) else {
            throw PostgresError(.usage, message: "cannot quote identifier: \(Self.lastError(handle))")
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    func rememberListen(_ channel: String) {
        if !listenedChannels.contains(channel) { listenedChannels.append(channel) }
    }

    var socket: Int32 { PQsocket(handle) }

    func consumeInput() throws {
        guard PQconsumeInput(handle) == 1 else {
            needsReset = true
            throw PostgresError(.connectionLost, message: "connection to \(target) lost: \(Self.lastError(handle))")
        }
    }

    func nextNotification() -> PostgresNotification? {
        guard let notice = PQnotifies(handle) else { return nil }
        defer { PQfreemem(notice) }
        return PostgresNotification(
            channel: String(cString: notice.pointee.relname),
            payload: String(cString: notice.pointee.extra),
            senderPID: notice.pointee.be_pid
        )
    }

    private static func describeTarget(_ conn: OpaquePointer?) -> String {
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
            pointer.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "?"
        }
        guard let conn else { return "the server" }
        return "\(text(PQhost(conn))):\(text(PQport(conn)))/\(text(PQdb(conn)))"
    }

    static func lastError(_ conn: OpaquePointer?) -> String {
        guard let conn, let message = PQerrorMessage(conn) else { return "out of memory" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
