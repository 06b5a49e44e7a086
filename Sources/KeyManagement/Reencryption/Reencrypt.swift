import EnvelopeCrypto
import Foundation
import KeyWrapping
import PostgresClient

/// What one re-encryption batch did.
public struct ReencryptBatchResult: Sendable {
    public var deksReplaced = 0
    public var valuesReencrypted = 0
    public var failures: [RewrapFailure] = []
    public var lastID: Int64?
}

/// The compromise path: every value under an untrusted key gets a new DEK and a new
/// ciphertext, and the old DEK row is removed. Rewrapping alone would leave values under
/// DEKs an attacker may hold.
public enum Reencrypt {
    /// Handles up to `limit` DEKs of `kekID` with ids in `(after, upTo]`; call inside the
    /// batch transaction that records the checkpoint. Rows other transactions hold are
    /// skipped (a later pass picks them up); a row that fails to open is reported and left.
    public static func batch(
        _ connection: PostgresConnection, keks: KEKCiphers, kekID: Int32, after: Int64, upTo: Int64, limit: Int
    ) throws -> ReencryptBatchResult {
        let old = try keks.cipher(kekID)
        let active = try keks.active()
        var result = ReencryptBatchResult()
        let rows = try connection.query("""
            SELECT id, wrapped_key FROM data_keys WHERE kek_id = $1 AND id > $2 AND id <= $3
            ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED
            """, [kekID, after, upTo, limit])
        for row in rows {
            let dekID: Int64 = try row.decode(0)
            result.lastID = dekID
            do {
                let oldDEK = try DEKCipher(id: dekID, key: try old.unwrapDEK(try row.decode(1), dekID: dekID))
                let newDEK = try DataKeys.create(connection, under: active)
                for table in EncryptedValueTable.all {
                    result.valuesReencrypted += try move(table, connection, from: oldDEK, to: newDEK)
                }
                try connection.execute("DELETE FROM data_keys WHERE id = $1", [dekID])
                result.deksReplaced += 1
            } catch let error as PostgresError {
                throw error
            } catch {
                result.failures.append(RewrapFailure(dekId: dekID, reason: "\(error)"))
            }
        }
        try DataKeys.recordWraps(connection, kekID: active.kekID, count: result.deksReplaced)
        return result
    }

    private static func move(
        _ table: EncryptedValueTable, _ connection: PostgresConnection, from old: DEKCipher, to new: DEKCipher
    ) throws -> Int {
        var moved = 0
        for row in try connection.query(
            "SELECT id, project_id, ciphertext FROM \(table.name) WHERE dek_id = $1 FOR UPDATE", [old.dekID]) {
            let id: UUID = try row.decode(0)
            let project: UUID = try row.decode(1)
            var value = try table.open(old, try row.decode(2), id, project)
            defer { secureZero(&value) }
            try connection.execute("UPDATE \(table.name) SET dek_id = $2, ciphertext = $3 WHERE id = $1",
                                   [id, new.dekID, try table.seal(new, value, id, project)])
            moved += 1
        }
        return moved
    }
}
