import EnvelopeCrypto
import Foundation
import KeyWrapping
import PostgresClient

/// What one re-encryption batch did.
public struct ReencryptBatchResult: Sendable {
    /// DEKs replaced by a new DEK (their values sealed again, the old row deleted).
    public var deksReplaced = 0
    /// DEKs kept with their plaintext and given a new wrap under the active KEK: no value of
    /// a table kek knows uses them, or a table kek does not know still references them.
    public var deksRewrapped = 0
    public var valuesReencrypted = 0
    /// Rows another transaction held (the DEK or one of its values); a later pass retries them.
    public var skippedLocked = 0
    public var failures: [RewrapFailure] = []
    public var lastID: Int64?
    /// Seals made under the active KEK (new DEKs and new wraps), added to its wrap count.
    public var wraps = 0

    /// DEKs that left the old KEK in this batch.
    public var moved: Int { deksReplaced + deksRewrapped }
}

/// The compromise path: every value under an untrusted key gets a new DEK and a new
/// ciphertext, and the old DEK row is removed. Rewrapping alone would leave values under
/// DEKs an attacker may hold. A DEK kek cannot re-encrypt the data of (an application's own
/// table) is not deleted, which would make that data unreadable: it gets a new wrap.
public enum Reencrypt {
    /// Handles up to `limit` DEKs of `kekID` with ids in `(after, upTo]`; call inside the batch
    /// transaction that records the checkpoint. DEK rows other transactions hold are skipped
    /// (the handler's final pass comes back for them). Each DEK runs under its own
    /// savepoint: a DEK that fails (cannot be opened, a value locked or refused) leaves
    /// nothing of its changes behind, and the rest of the batch commits.
    public static func batch(
        _ connection: PostgresConnection, keks: KEKCiphers, kekID: Int32, after: Int64, upTo: Int64 = .max, limit: Int
    ) throws -> ReencryptBatchResult {
        let old = try keks.cipher(kekID)
        let active = try keks.active()
        var result = ReencryptBatchResult()
        let rows = try connection.query("""
            SELECT id, wrapped_key FROM data_keys WHERE kek_id = $1 AND id > $2 AND id <= $4
            ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
            """, [kekID, after, limit, upTo])
        for row in rows {
            let dekID: Int64 = try row.decode(0)
            result.lastID = dekID
            try connection.execute("SAVEPOINT reencrypt_dek")
            do {
                let outcome = try replace(connection, dekID: dekID, wrapped: try row.decode(1), from: old, to: active)
                try connection.execute("RELEASE SAVEPOINT reencrypt_dek")
                result.valuesReencrypted += outcome.values
                result.wraps += outcome.wraps
                if outcome.replaced { result.deksReplaced += 1 } else { result.deksRewrapped += 1 }
            } catch {
                try connection.execute("ROLLBACK TO SAVEPOINT reencrypt_dek")
                if let failure = error as? PostgresError {
                    if failure.sqlState == .lockNotAvailable { result.skippedLocked += 1; continue }
                    if failure.kind != .server || failure.isTransient { throw error }
                }
                result.failures.append(RewrapFailure(dekId: dekID, reason: "\(error)"))
            }
        }
        return result
    }

    private static func replace(
        _ connection: PostgresConnection, dekID: Int64, wrapped: [UInt8], from old: KEKCipher, to active: KEKCipher
    ) throws -> (replaced: Bool, values: Int, wraps: Int) {
        let oldDEK = try DEKCipher(id: dekID, key: try old.unwrapDEK(wrapped, dekID: dekID))
        var newDEK: DEKCipher?
        var values = 0
        for table in EncryptedValueTable.all {
            for value in try lockValues(table, connection, dekID: dekID) {
                let dek = try newDEK ?? DataKeys.create(connection, under: active)
                newDEK = dek
                try move(table, connection, value: value, from: oldDEK, to: dek)
                values += 1
            }
        }
        if newDEK != nil {
            try connection.execute("SAVEPOINT reencrypt_delete")
            do {
                try connection.execute("DELETE FROM data_keys WHERE id = $1", [dekID])
                try connection.execute("RELEASE SAVEPOINT reencrypt_delete")
                return (true, values, 1)
            } catch let error as PostgresError where error.sqlState == .foreignKeyViolation {
                // A table kek does not know still references the DEK: keep it, rewrapped.
                try connection.execute("ROLLBACK TO SAVEPOINT reencrypt_delete")
            }
        }
        let moved = try connection.execute("""
            UPDATE data_keys SET kek_id = $2, wrapped_key = $3 WHERE id = $1 AND kek_id = $4 AND wrapped_key = $5
            """, [dekID, active.kekID, try KEKCipher.rewrapDEK(wrapped, dekID: dekID, from: old, to: active), old.kekID, wrapped])
        guard moved == 1 else {
            throw KeyManagementError.rowFailed(table: "data_keys", id: "\(dekID)", reason: "changed while it was being re-encrypted")
        }
        return (false, values, newDEK == nil ? 1 : 2)
    }

    private struct ValueRow {
        var id: UUID
        var project: UUID
        var ciphertext: [UInt8]
    }

    /// The values `dekID` protects in `table`, locked; NOWAIT so that a value an application
    /// holds makes this DEK wait for a later pass instead of stalling the batch.
    private static func lockValues(_ table: EncryptedValueTable, _ connection: PostgresConnection, dekID: Int64) throws -> [ValueRow] {
        try connection.query("SELECT id, project_id, ciphertext FROM \(table.name) WHERE dek_id = $1 FOR UPDATE NOWAIT", [dekID])
            .map { ValueRow(id: try $0.decode(0), project: try $0.decode(1), ciphertext: try $0.decode(2)) }
    }

    private static func move(
        _ table: EncryptedValueTable, _ connection: PostgresConnection, value row: ValueRow, from old: DEKCipher, to new: DEKCipher
    ) throws {
        var value = try table.open(old, row.ciphertext, row.id, row.project)
        defer { secureZero(&value) }
        try connection.execute("UPDATE \(table.name) SET dek_id = $2, ciphertext = $3 WHERE id = $1",
                               [row.id, new.dekID, try table.seal(new, value, row.id, row.project)])
    }
}
