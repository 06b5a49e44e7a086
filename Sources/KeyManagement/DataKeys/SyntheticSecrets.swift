import EnvelopeCrypto
import Foundation
import KeyWrapping
import PostgresClient

/// Fills a project with generated secrets, each under its own DEK, for the demo, the
/// benchmark and the tests: the value of secret `SYNTHETIC_<n>` is `synthetic-value-<n>`,
/// so anyone can check after a rotation that every value still decrypts to what was stored.
public enum SyntheticSecrets {
    /// Inserts `count` secrets in batches of `batchSize`, numbering from `firstNumber`;
    /// calls `progress` with the number inserted so far.
    public static func seed(
        _ connection: PostgresConnection, keks: KEKCiphers, project: UUID, count: Int, firstNumber: Int = 0,
        batchSize: Int = 5000, progress: (Int) -> Void = { _ in }
    ) throws {
        let kek = try keks.active()
        var inserted = 0
        while inserted < count {
            let n = min(batchSize, count - inserted)
            try connection.transaction {
                let deks = try insertDataKeys(connection, under: kek, count: n)
                var secretIDs: [UUID] = []
                var names: [String] = []
                var ciphertexts: [[UInt8]] = []
                for (offset, (dekID, key)) in deks.enumerated() {
                    let number = firstNumber + inserted + offset
                    let dek = try DEKCipher(id: dekID, key: key)
                    let secretID = UUID()
                    secretIDs.append(secretID)
                    names.append(name(number))
                    ciphertexts.append(try dek.sealSecret(Array(value(number).utf8), id: secretID, projectID: project))
                }
                try connection.execute("""
                    INSERT INTO project_secrets (id, project_id, name, dek_id, ciphertext)
                    SELECT u.id, $1, u.name, u.dek, u.c FROM unnest($2::uuid[], $3::text[], $4::int8[], $5::bytea[]) AS u(id, name, dek, c)
                    """, [project, PostgresArray(secretIDs), PostgresArray(names), PostgresArray(deks.map(\.id)),
                          PostgresArray(ciphertexts)])
            }
            inserted += n
            progress(inserted)
        }
    }

    /// Inserts `count` bare DEKs (no value under them) in batches: what the rewrap benchmark moves.
    public static func seedDataKeys(_ connection: PostgresConnection, keks: KEKCiphers, count: Int, batchSize: Int = 10_000,
                                    progress: (Int) -> Void = { _ in }) throws {
        let kek = try keks.active()
        var inserted = 0
        while inserted < count {
            let n = min(batchSize, count - inserted)
            try connection.transaction { _ = try insertDataKeys(connection, under: kek, count: n) }
            inserted += n
            progress(inserted)
        }
    }

    /// One statement of `count` new DEKs under `kek`, counted by the database against its wrap limit.
    private static func insertDataKeys(
        _ connection: PostgresConnection, under kek: KEKCipher, count: Int
    ) throws -> [(id: Int64, key: SymmetricKey)] {
        let ids: [Int64] = try connection.query(
            "SELECT nextval(pg_get_serial_sequence('data_keys', 'id')) FROM generate_series(1, $1)", [count]).map { try $0.decode(0) }
        var wrapped: [[UInt8]] = []
        var deks: [(id: Int64, key: SymmetricKey)] = []
        wrapped.reserveCapacity(count)
        deks.reserveCapacity(count)
        for id in ids {
            let key = try KeyGenerator.newDEK()
            wrapped.append(try kek.wrapDEK(key, dekID: id))
            deks.append((id, key))
        }
        try connection.execute(
            "INSERT INTO data_keys (id, kek_id, wrapped_key) SELECT u.id, $1, u.w FROM unnest($2::int8[], $3::bytea[]) AS u(id, w)",
            [kek.kekID, PostgresArray(ids), PostgresArray(wrapped)])
        return deks
    }

    public static func name(_ number: Int) -> String { "SYNTHETIC_\(number)" }
    public static func value(_ number: Int) -> String { "synthetic-value-\(number)" }

    /// Decrypts every synthetic secret of `project` and counts those that do not hold the
    /// value they were seeded with (0 means every value survived).
    public static func countWrongValues(_ connection: PostgresConnection, keks: KEKCiphers, project: UUID) throws -> (checked: Int, wrong: Int) {
        var after = ""
        var checked = 0
        var wrong = 0
        while true {
            let rows = try connection.query("""
                SELECT s.id, s.name, s.ciphertext, d.id, d.kek_id, d.wrapped_key FROM project_secrets s JOIN data_keys d ON d.id = s.dek_id
                WHERE s.project_id = $1 AND s.name > $2 AND s.name LIKE 'SYNTHETIC\\_%' ORDER BY s.name LIMIT 5000
                """, [project, after])
            guard let last = rows.last else { return (checked, wrong) }
            after = try last.decode(1)
            for row in rows {
                let name: String = try row.decode(1)
                let dekID: Int64 = try row.decode(3)
                let dek = try DEKCipher(id: dekID, key: try keks.cipher(try row.decode(4)).unwrapDEK(try row.decode(5), dekID: dekID))
                let plain = try dek.openSecret(try row.decode(2), id: try row.decode(0), projectID: project)
                let expected = value(Int(name.dropFirst("SYNTHETIC_".count)) ?? -1)
                if plain != Array(expected.utf8) { wrong += 1 }
                checked += 1
            }
        }
    }
}
