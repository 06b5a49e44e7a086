import Foundation
import PostgresClient

/// Checking the audit chain, and the head an operator keeps outside the database to anchor it.
///
/// The chain alone proves that no row inside it was changed; a superuser who deletes the tail
/// or rewrites every hash after a change still leaves a consistent chain. A head saved earlier
/// (`kek audit head`) catches both: `verify(expecting:)` fails when that row is gone or its
/// hash differs.
extension AuditLog {
    /// A row id and its hash: what `kek audit head` prints and `--head ID:HASH` takes.
    public struct Head: Sendable, Equatable, CustomStringConvertible {
        public var id: Int64
        public var hash: String

        public init(id: Int64, hash: String) {
            self.id = id
            self.hash = hash.lowercased()
        }

        /// Parses `ID:HASH` (HASH in hex); nil when malformed.
        public init?(parsing text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let id = Int64(parts[0]), id > 0, parts[1].count == 64,
                  parts[1].allSatisfy(\.isHexDigit) else { return nil }
            self.init(id: id, hash: String(parts[1]))
        }

        public var description: String { "\(id):\(hash)" }
    }

    /// Result of walking the chain.
    public struct Verification: Sendable {
        public var rows: Int
        /// The first row whose stored hashes do not match its content or its predecessor.
        public var firstBrokenRow: Int64?
        /// The newest row, to be kept outside the database as an anchor.
        public var head: Head?
        /// What is wrong with the chain's end: the head table disagrees with the last row, or a
        /// head saved earlier is gone or changed.
        public var headProblem: String?

        public var headHash: String? { head?.hash }
        public var intact: Bool { firstBrokenRow == nil && headProblem == nil }
    }

    /// The newest row's id and hash, as the chain's head table records it.
    public static func head(_ connection: PostgresConnection) throws -> Head? {
        guard let row = try connection.query("SELECT id, encode(hash, 'hex') FROM audit_head WHERE id IS NOT NULL").first else {
            return nil
        }
        return Head(id: try row.decode(0), hash: try row.decode(1))
    }

    /// Recomputes every row's hash and link, oldest first, names the first broken row, checks
    /// the head table against the last row and, when given, that `expected` is still in the chain.
    public static func verify(_ connection: PostgresConnection, expecting expected: Head? = nil) throws -> Verification {
        try connection.transaction(.readOnlySnapshot) {
            let row = try connection.query("""
                SELECT (SELECT count(*) FROM audit_log),
                       (SELECT id FROM (
                            SELECT a.id, a.hash, a.prev_hash,
                                   coalesce(lag(a.hash) OVER (ORDER BY a.id), '\\x'::bytea) AS expected_prev,
                                   audit_log_expected_hash(a, h.v1_until) AS expected_hash
                            FROM audit_log a, audit_head h) chain
                        WHERE prev_hash <> expected_prev OR expected_hash IS NULL OR hash <> expected_hash
                        ORDER BY id LIMIT 1),
                       (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1),
                       (SELECT encode(hash, 'hex') FROM audit_log ORDER BY id DESC LIMIT 1),
                       (SELECT id FROM audit_head), (SELECT encode(hash, 'hex') FROM audit_head),
                       (SELECT encode(hash, 'hex') FROM audit_log WHERE id = $1)
                """, [expected?.id ?? 0])[0]
            var result = Verification(rows: try row.decode(0), firstBrokenRow: try row.decode(1))
            let lastID: Int64? = try row.decode(2)
            if let lastID { result.head = Head(id: lastID, hash: try row.decode(3)) }
            let recordedID: Int64? = try row.decode(4)
            let recordedHash: String = try row.decode(5)
            if recordedID != lastID || (lastID != nil && recordedHash != result.head?.hash) {
                result.headProblem = "the chain's head table says row \(recordedID.map(String.init) ?? "none") "
                    + "but the last row is \(lastID.map(String.init) ?? "none"): rows were removed or rewritten"
            }
            if let expected {
                let found: String? = try row.decode(6)
                if found == nil {
                    result.headProblem = "the saved head row \(expected.id) is gone: the log was truncated"
                } else if found != expected.hash {
                    result.headProblem = "row \(expected.id) no longer has the saved hash: the chain was rewritten"
                }
            }
            return result
        }
    }
}

extension AuditLog {
    /// Rows after `id`, oldest first, each as one JSON object (for a SIEM: `kek audit export`):
    /// id, at (UTC), login, actor, action, target, details (an object), hash, prev_hash, hash_version.
    public static func exportLines(_ connection: PostgresConnection, after id: Int64, limit: Int) throws -> [(id: Int64, line: String)] {
        try connection.query("""
            SELECT id, json_build_object(
                       'id', id, 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'login', login,
                       'actor', actor, 'action', action, 'target', target, 'details', details,
                       'hash', encode(hash, 'hex'), 'prev_hash', encode(prev_hash, 'hex'), 'hash_version', hash_version)::text
            FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2
            """, [id, limit]).map { (try $0.decode(0), try $0.decode(1)) }
    }
}
