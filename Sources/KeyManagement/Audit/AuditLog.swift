import Foundation
import PostgresClient

/// The append-only, hash-chained record of every key operation.
///
/// Rows are written on the caller's connection inside the caller's transaction, so a key
/// change and its record commit or vanish together. Details are ids and counts only:
/// nothing given to `append` may be key material or a secret value.
public enum AuditLog {
    /// One audit row as `kek audit list` shows it.
    public struct Entry: Sendable {
        public var id: Int64
        public var at: Date
        public var actor: String
        public var action: String
        public var target: String?
        public var details: String
    }

    /// Result of walking the chain.
    public struct Verification: Sendable {
        public var rows: Int
        /// The first row whose stored hashes do not match its content or its predecessor.
        public var firstBrokenRow: Int64?
        /// The newest row's hash, to be kept outside the database as an anchor.
        public var headHash: String?
    }

    /// Appends a row; call inside the transaction of the change it records.
    public static func append(
        _ connection: PostgresConnection, actor: String, action: AuditAction, target: String?, details: [String: AuditValue] = [:]
    ) throws {
        try connection.execute(
            "INSERT INTO audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4)",
            [actor, action.rawValue, target, PostgresJSON(AuditValue.json(details))])
    }

    /// Recomputes every row's hash and link, oldest first, and names the first broken row.
    public static func verify(_ connection: PostgresConnection) throws -> Verification {
        let rows = try connection.query("""
            SELECT count(*),
                   (SELECT id FROM (
                        SELECT id, hash, prev_hash,
                               coalesce(lag(hash) OVER (ORDER BY id), '\\x'::bytea) AS expected_prev,
                               sha256(prev_hash || audit_log_content(id, at, actor, action, target, details)) AS expected_hash
                        FROM audit_log) chain
                    WHERE prev_hash <> expected_prev OR hash <> expected_hash
                    ORDER BY id LIMIT 1),
                   (SELECT encode(hash, 'hex') FROM audit_log ORDER BY id DESC LIMIT 1)
            FROM audit_log
            """)
        return Verification(rows: try rows[0].decode(0), firstBrokenRow: try rows[0].decode(1), headHash: try rows[0].decode(2))
    }

    /// The newest rows first, optionally only one action.
    public static func list(_ connection: PostgresConnection, limit: Int, action: String? = nil) throws -> [Entry] {
        try connection.query("""
            SELECT id, at, actor, action, target, details::text FROM audit_log
            WHERE $1::text IS NULL OR action = $1 ORDER BY id DESC LIMIT $2
            """, [action, limit]).map { row in
            Entry(id: try row.decode(0), at: try row.decode(1), actor: try row.decode(2), action: try row.decode(3),
                  target: try row.decode(4), details: try row.decode(5))
        }
    }
}

/// The actions kek records. Names follow `<object>.<verb>` so that one prefix finds a kind.
public enum AuditAction: String, Sendable, CaseIterable {
    case kekGenerated = "kek.generated"
    case kekActivated = "kek.activated"
    case kekDeactivated = "kek.decrypt_only"
    case kekRetired = "kek.retired"
    case kekDestroyScheduled = "kek.destroy_scheduled"
    case kekDestroyCancelled = "kek.destroy_cancelled"
    case kekDestroyed = "kek.destroyed"
    case kekCompromised = "kek.compromised"
    case kekRewrappedUnderRoot = "kek.root_rewrapped"
    case rotationStarted = "rotation.started"
    case rotationFinished = "rotation.finished"
    case rotationFailed = "rotation.failed"
    case reencryptionStarted = "reencryption.started"
    case reencryptionFinished = "reencryption.finished"
    case verification = "verification.finished"
    case rootRotation = "root.rotated"
    case rootKeyRecorded = "root_key.recorded"
    case jobFailed = "job.failed"
    case secretCreated = "secret.created"
    case secretUpdated = "secret.updated"
    case secretAccessed = "secret.accessed"
    case secretDeleted = "secret.deleted"
    case envImported = "env.imported"
    case signingKeyGenerated = "signing_key.generated"
    case signingKeyRevoked = "signing_key.revoked"
    case signingKeyReactivated = "signing_key.reactivated"
    case statusUnauthorized = "status.unauthorized"
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
