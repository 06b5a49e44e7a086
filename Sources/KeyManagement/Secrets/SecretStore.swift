import Foundation
import KeyWrapping
import PostgresClient

/// The `project_secrets` table: one encrypted value per (project, name), each under its own DEK.
///
/// Every change runs in one transaction with its audit row. An update never re-uses the old
/// DEK: a new DEK seals the new value and the old DEK row is deleted in the same transaction,
/// so a DEK protects exactly one value for its whole life.
public struct SecretStore {
    public let connection: PostgresConnection
    public let keks: KEKCiphers
    public let actor: String

    public init(connection: PostgresConnection, keks: KEKCiphers, actor: String) {
        self.connection = connection
        self.keks = keks
        self.actor = actor
    }

    /// Creates the secret or replaces its value (version + 1, new DEK, old DEK deleted).
    /// A stub declared by an import manifest gets its first value (version 1).
    @discardableResult
    public func put(project: UUID, name: String, value: SecretBytes, description: String? = nil) throws -> SecretRecord {
        if let problem = SecretName.problem(name) { throw SecretStoreError.invalidName(problem) }
        guard value.count <= SecretName.maxValueBytes else {
            throw SecretStoreError.valueTooLarge(name: name, size: value.count, limit: SecretName.maxValueBytes)
        }
        return try connection.transaction {
            let existing = try connection.query(
                "SELECT id, dek_id FROM project_secrets WHERE project_id = $1 AND name = $2 FOR UPDATE", [project, name]).first
            let kek = try keks.active()
            let dek = try DataKeys.create(connection, under: kek)
            let id: UUID = try existing?.decode(0) ?? UUID()
            let oldDEK: Int64? = try existing?.decode(1)
            let ciphertext = try dek.sealSecret(value.bytes, id: id, projectID: project)
            let row: Row
            if existing != nil {
                row = try connection.query("""
                    UPDATE project_secrets SET dek_id = $2, ciphertext = $3, version = version + 1, updated_at = now(),
                           description = coalesce($4, description)
                    WHERE id = $1 RETURNING \(SecretRecord.columns)
                    """, [id, dek.dekID, ciphertext, description])[0]
                if let oldDEK { try connection.execute("DELETE FROM data_keys WHERE id = $1", [oldDEK]) }
            } else {
                row = try connection.query("""
                    INSERT INTO project_secrets (id, project_id, name, dek_id, ciphertext, version, description)
                    VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING \(SecretRecord.columns)
                    """, [id, project, name, dek.dekID, ciphertext, description])[0]
            }
            let record = try SecretRecord(row: row)
            try AuditLog.append(connection, actor: actor, action: oldDEK == nil ? .secretCreated : .secretUpdated,
                                target: "secret:\(AAD.canonical(id))", details: Self.details(record))
            return record
        }
    }

    /// Decrypts the value and records the access (`secret.accessed`) in the same transaction.
    /// The caller owns the returned bytes; they are wiped when released.
    public func get(project: UUID, name: String) throws -> SecretBytes {
        try connection.transaction {
            guard let row = try connection.query(
                "SELECT id, dek_id, ciphertext, version FROM project_secrets WHERE project_id = $1 AND name = $2",
                [project, name]).first
            else { throw SecretStoreError.secretNotFound(project: project, name: name) }
            let id: UUID = try row.decode(0)
            guard let dekID: Int64 = try row.decode(1), let ciphertext: [UInt8] = try row.decode(2) else {
                throw SecretStoreError.secretHasNoValue(project: project, name: name)
            }
            let dek = try DataKeys.open(connection, id: dekID, keks: keks)
            let value = SecretBytes(try dek.openSecret(ciphertext, id: id, projectID: project))
            try AuditLog.append(connection, actor: actor, action: .secretAccessed, target: "secret:\(AAD.canonical(id))",
                                details: ["project": .text(AAD.canonical(project)), "name": .text(name),
                                          "version": .int(try row.decode(3))])
            return value
        }
    }

    /// Every secret of the project, by name; values are not read.
    public func list(project: UUID) throws -> [SecretRecord] {
        try connection.query("SELECT \(SecretRecord.columns) FROM project_secrets WHERE project_id = $1 ORDER BY name",
                             [project]).map(SecretRecord.init(row:))
    }

    /// Deletes the secret and its DEK; an unknown name is an error.
    @discardableResult
    public func remove(project: UUID, name: String) throws -> SecretRecord {
        try connection.transaction {
            guard let row = try connection.query(
                "DELETE FROM project_secrets WHERE project_id = $1 AND name = $2 RETURNING \(SecretRecord.columns), dek_id",
                [project, name]).first
            else { throw SecretStoreError.secretNotFound(project: project, name: name) }
            let record = try SecretRecord(row: row)
            if let dekID: Int64 = try row.decode(8) {
                try connection.execute("DELETE FROM data_keys WHERE id = $1", [dekID])
            }
            try AuditLog.append(connection, actor: actor, action: .secretDeleted,
                                target: "secret:\(AAD.canonical(record.id))", details: Self.details(record))
            return record
        }
    }

    static func details(_ record: SecretRecord) -> [String: AuditValue] {
        ["project": .text(AAD.canonical(record.projectID)), "name": .text(record.name), "version": .int(Int64(record.version))]
    }
}
