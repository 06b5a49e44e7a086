import EnvelopeCrypto
import KeyWrapping
import PostgresClient

/// Creating and opening the per-item DEKs of `data_keys`.
public enum DataKeys {
    /// Makes a new DEK, stores it wrapped under `kek`, and returns it ready to seal a value.
    /// Call inside the transaction that stores the value, then `recordWraps` once for the batch.
    public static func create(_ connection: PostgresConnection, under kek: KEKCipher) throws -> DEKCipher {
        let id: Int64 = try connection.query("SELECT nextval(pg_get_serial_sequence('data_keys', 'id'))")[0].decode(0)
        let key = try KeyGenerator.newDEK()
        try connection.execute("INSERT INTO data_keys (id, kek_id, wrapped_key) VALUES ($1, $2, $3)",
                               [id, kek.kekID, try kek.wrapDEK(key, dekID: id)])
        return try DEKCipher(id: id, key: key)
    }

    /// Opens the DEK `id` with whichever KEK wraps it.
    public static func open(_ connection: PostgresConnection, id: Int64, keks: KEKCiphers) throws -> DEKCipher {
        guard let row = try connection.query("SELECT kek_id, wrapped_key FROM data_keys WHERE id = $1", [id]).first else {
            throw KeyManagementError.rowFailed(table: "data_keys", id: "\(id)", reason: "no such DEK")
        }
        let kek = try keks.cipher(try row.decode(0))
        return try DEKCipher(id: id, key: try kek.unwrapDEK(try row.decode(1), dekID: id))
    }

    /// `$1` KEK, `$2` wraps made, `$3` limit; public so that `kek bench`'s Python peer runs the same text.
    /// The new count, or NULL when the limit would be passed.
    public static let recordWrapsSQL = "SELECT kek_record_wraps($1, $2, $3)"

    /// Adds `count` wraps to KEK `kekID`'s counter, refusing past the configured limit, so
    /// that no KEK nears GCM's random-nonce bound (NIST SP 800-38D 8.3).
    public static func recordWraps(_ connection: PostgresConnection, kekID: Int32, count: Int) throws {
        guard count > 0 else { return }
        let limit = KEKPolicy.wrapLimit
        // A function with the owner's rights (sql/041): applications may not UPDATE keks.
        let updated: Int64? = try connection.query(recordWrapsSQL, [kekID, Int64(count), limit])[0].decode(0)
        guard updated != nil else {
            // Applications may not read wrap_count; the refusal then reports only the request.
            let current: Int64 = (try? connection.query("SELECT wrap_count FROM keks WHERE id = $1", [kekID]).first?.decode(0)) ?? 0
            throw KeyManagementError.wrapLimitReached(kekID: kekID, count: current + Int64(count), limit: limit)
        }
    }
}
