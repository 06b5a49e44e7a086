/// An error from PostgreSQL or from talking to it.
///
/// It carries the SQLSTATE so that callers can react to a class of failure (a unique
/// violation, a lock timeout, a lost connection) rather than to message text, and the
/// server's message, detail and hint so that a person reading a log can act on it.
/// Query parameters are never copied into it: they may hold key material.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in broad strokes.
    public enum Kind: Sendable, Equatable {
        /// Could not open a connection (bad address, refused, authentication).
        case connection
        /// The connection was lost while in use; the next call reconnects.
        case connectionLost
        /// The server refused the statement; see `sqlState`.
        case server
        /// A column could not be decoded into the requested Swift type.
        case decoding
        /// The client was used wrongly (too many parameters, bad channel name).
        case usage
    }

    public var kind: Kind
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: SQLState?
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(_ kind: Kind, sqlState: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = message
        if let sqlState { text = "[\(sqlState.code)] " + text }
        if let detail, !detail.isEmpty { text += " (detail: \(detail))" }
        if let hint, !hint.isEmpty { text += " (hint: \(hint))" }
        return text
    }

    /// True when running the same work again, on a fresh transaction, may succeed.
    public var isTransient: Bool {
        if kind == .connectionLost || kind == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.isTransient
    }
}

/// A SQLSTATE code. Open-ended on purpose: new server versions add codes, and an
/// unknown one must still be carried, not turned into a catch-all.
public struct SQLState: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let code: String

    public init(_ code: String) { self.code = code }
    public init(stringLiteral value: String) { self.code = value }

    public var description: String { code }

    public static let uniqueViolation: SQLState = "23505"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let checkViolation: SQLState = "23514"
    public static let raiseException: SQLState = "P0001"
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    public static let lockNotAvailable: SQLState = "55P03"
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let insufficientPrivilege: SQLState = "42501"

    /// Serialization failures, deadlocks, lock and statement timeouts, and connection
    /// exceptions (class 08) are worth a retry; everything else is a bug or bad input.
    public var isTransient: Bool {
        [.serializationFailure, .deadlockDetected, .lockNotAvailable, .queryCanceled, .adminShutdown].contains(self)
            || code.hasPrefix("08")
    }
}

extension PostgresError {
    /// A lock timeout says only "canceling statement due to lock timeout"; this adds which
    /// statement waited (its first line: SQL text, never a parameter) and what to look for.
    func namingLockWait(statement: String) -> PostgresError {
        guard sqlState == .lockNotAvailable else { return self }
        var named = self
        let firstLine = statement.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        named.message += " while waiting for a lock held by another session, in: \(firstLine.prefix(120))"
        named.hint = (hint.map { $0 + "; " } ?? "")
            + "look for the session holding it (pg_locks, pg_stat_activity: an open transaction, an advisory lock) and end it, then retry"
        return named
    }
}
