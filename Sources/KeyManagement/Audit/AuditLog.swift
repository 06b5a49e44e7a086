import Foundation
import PostgresClient

/// The append-only, hash-chained record of every key operation.
///
/// Rows are written on the caller's connection inside the caller's transaction, so a key
/// change and its record commit or vanish together. Details are ids and counts only:
/// nothing given to `append` may be key material or a secret value. The database sets each
/// row's time and login (sql/043_audit_chain_v2.sql); `actor` is what the caller declares.
public enum AuditLog {
    /// One audit row as `kek audit list` and `kek audit export` show it.
    public struct Entry: Sendable, Encodable {
        public var id: Int64
        public var at: Date
        /// The database login that wrote the row (session_user), set by the database.
        public var login: String?
        /// Who the writer says acted (an operator's name, a worker id).
        public var actor: String
        public var action: String
        public var target: String?
        /// JSON text; `--json` prints it as the object it is.
        @EmbeddedJSON public var details: String
        public var hash: String
        public var prevHash: String
        public var hashVersion: Int

        /// The keys of `kek audit list --json`.
        enum CodingKeys: String, CodingKey {
            case id, at, login, actor, action, target, details, hash
            case prevHash = "prev_hash", hashVersion = "hash_version"
        }
    }

    /// Appends a row; call inside the transaction of the change it records. Outside one, the
    /// row gets a READ COMMITTED transaction of its own (the chain refuses other levels).
    public static func append(
        _ connection: PostgresConnection, actor: String, action: AuditAction, target: String?, details: [String: AuditValue] = [:]
    ) throws {
        let insert = {
            _ = try connection.execute(
                "INSERT INTO audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4)",
                [actor, action.rawValue, target, PostgresJSON(AuditValue.json(details))])
        }
        if connection.inTransaction { try insert() } else { try connection.transaction { try insert() } }
    }

    static let entryColumns = """
        id, at, login, actor, action, target, details::text, encode(hash, 'hex'), encode(prev_hash, 'hex'), hash_version
        """

    static func entry(_ row: Row) throws -> Entry {
        Entry(id: try row.decode(0), at: try row.decode(1), login: try row.decode(2), actor: try row.decode(3),
              action: try row.decode(4), target: try row.decode(5), details: try row.decode(6), hash: try row.decode(7),
              prevHash: try row.decode(8), hashVersion: try row.decode(9))
    }

    /// The newest rows first, optionally only one action.
    public static func list(_ connection: PostgresConnection, limit: Int, action: String? = nil) throws -> [Entry] {
        try connection.query("""
            SELECT \(entryColumns) FROM audit_log
            WHERE $1::text IS NULL OR action = $1 ORDER BY id DESC LIMIT $2
            """, [action, limit]).map(entry)
    }
}

/// A value in an audit row's details: ids, counts, names and states, never key material.
public enum AuditValue: Sendable {
    case int(Int64)
    case text(String)
    case texts([String])

    static func json(_ details: [String: AuditValue]) -> String {
        let object = details.mapValues { value -> Any in
            switch value {
            case .int(let number): return number
            case .text(let text): return text
            case .texts(let texts): return texts
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
