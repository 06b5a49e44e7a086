import EnvelopeCrypto
import KeyWrapping
import PostgresClient

extension DataKeys {
    /// Makes `count` new DEKs under `kek` with three round trips whatever the count: one to
    /// reserve ids, one INSERT of every wrapped key (`unnest`), whose
    /// statement trigger adds the wraps to the KEK's count (refusing past the limit). The insert trigger checks the KEK once for the whole statement.
    /// Call inside the transaction that stores the values.
    public static func createBatch(_ connection: PostgresConnection, count: Int, under kek: KEKCipher) throws -> [DEKCipher] {
        guard count > 0 else { return [] }
        let ids: [Int64] = try connection.query(
            "SELECT nextval(pg_get_serial_sequence('data_keys', 'id')) FROM generate_series(1, $1)", [count]
        ).map { try $0.decode(0) }
        var ciphers: [DEKCipher] = []
        var wrapped: [[UInt8]] = []
        ciphers.reserveCapacity(count)
        wrapped.reserveCapacity(count)
        for id in ids {
            let key = try KeyGenerator.newDEK()
            wrapped.append(try kek.wrapDEK(key, dekID: id))
            ciphers.append(try DEKCipher(id: id, key: key))
        }
        try connection.execute(
            "INSERT INTO data_keys (id, kek_id, wrapped_key) SELECT u.id, $1, u.wrapped FROM unnest($2::int8[], $3::bytea[]) AS u(id, wrapped)",
            [kek.kekID, PostgresArray(ids), PostgresArray(wrapped)])
        return ciphers
    }
}
