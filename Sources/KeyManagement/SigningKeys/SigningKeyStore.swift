import EnvelopeCrypto
import Foundation
import KeyWrapping
import PostgresClient

/// The `signature_keys` table: per-project HMAC keys that sign webhook payloads.
///
/// Each key is 32 random bytes (HMAC-SHA256's block-size-safe key length) sealed under its
/// own DEK with AAD `sigkey/v1|id=..|project=..`. Revocation is reversible (a key revoked by
/// mistake can be reactivated); every action writes an audit row in its transaction.
public struct SigningKeyStore {
    /// Bytes in a generated key.
    public static let keyBytes = 32

    public let connection: PostgresConnection
    public let keks: KEKCiphers
    public let actor: String

    public init(connection: PostgresConnection, keks: KEKCiphers, actor: String) {
        self.connection = connection
        self.keks = keks
        self.actor = actor
    }

    /// Makes and stores a new active key; the caller shows the returned key once and drops it.
    public func generate(project: UUID) throws -> (record: SigningKeyRecord, key: SecretBytes) {
        try connection.transaction {
            let id = UUID()
            let key = SecretBytes(try randomBytes(count: Self.keyBytes))
            let kek = try keks.active()
            let dek = try DataKeys.create(connection, under: kek)
            let ciphertext = try dek.sealSigningKey(key.bytes, id: id, projectID: project)
            let record = try SigningKeyRecord(row: try connection.query("""
                INSERT INTO signature_keys (id, project_id, dek_id, ciphertext, status)
                VALUES ($1, $2, $3, $4, 'active') RETURNING \(SigningKeyRecord.columns)
                """, [id, project, dek.dekID, ciphertext])[0])
            try audit(.signingKeyGenerated, record)
            return (record, key)
        }
    }

    /// Every key of the project, oldest first.
    public func list(project: UUID) throws -> [SigningKeyRecord] {
        try connection.query(
            "SELECT \(SigningKeyRecord.columns) FROM signature_keys WHERE project_id = $1 ORDER BY created_at, id",
            [project]).map(SigningKeyRecord.init(row:))
    }

    /// Stops the key from being used; refused when it is already revoked.
    @discardableResult
    public func revoke(project: UUID, id: UUID) throws -> SigningKeyRecord {
        try change(project: project, id: id, from: .active, action: "revoke", audit: .signingKeyRevoked,
                   set: "status = 'revoked', revoked_at = now()")
    }

    /// Lets a revoked key sign and verify again; refused when it is already active.
    @discardableResult
    public func reactivate(project: UUID, id: UUID) throws -> SigningKeyRecord {
        try change(project: project, id: id, from: .revoked, action: "reactivate", audit: .signingKeyReactivated,
                   set: "status = 'active', revoked_at = NULL")
    }

    /// Decrypts a key for signing or verifying (no audit row: this is the per-request path).
    public func open(project: UUID, id: UUID) throws -> SecretBytes {
        guard let row = try connection.query(
            "SELECT dek_id, ciphertext FROM signature_keys WHERE project_id = $1 AND id = $2", [project, id]).first
        else { throw SecretStoreError.signingKeyNotFound(project: project, id: id) }
        let dek = try DataKeys.open(connection, id: try row.decode(0), keks: keks)
        return SecretBytes(try dek.openSigningKey(try row.decode(1), id: id, projectID: project))
    }

    private func change(
        project: UUID, id: UUID, from expected: SigningKeyStatus, action: String, audit auditAction: AuditAction, set: String
    ) throws -> SigningKeyRecord {
        try connection.transaction {
            guard let current = try connection.query(
                "SELECT status FROM signature_keys WHERE project_id = $1 AND id = $2 FOR UPDATE", [project, id]).first
            else { throw SecretStoreError.signingKeyNotFound(project: project, id: id) }
            let status: String = try current.decode(0)
            guard status == expected.rawValue else {
                throw SecretStoreError.signingKeyStatus(id: id, status: status, action: action)
            }
            let record = try SigningKeyRecord(row: try connection.query(
                "UPDATE signature_keys SET \(set) WHERE id = $1 RETURNING \(SigningKeyRecord.columns)", [id])[0])
            try audit(auditAction, record)
            return record
        }
    }

    private func audit(_ action: AuditAction, _ record: SigningKeyRecord) throws {
        try AuditLog.append(connection, actor: actor, action: action, target: "signing_key:\(AAD.canonical(record.id))",
                            details: ["project": .text(AAD.canonical(record.projectID)), "status": .text(record.status.rawValue)])
    }
}
