import KeyWrapping
import PostgresClient

/// The `root_keys` table: which key each root key id stands for, as a check value.
///
/// Why: a keyring entry is only an id and 32 bytes. Without a record, a process given the
/// right id with the wrong key (a stale Secret, a fresh `kek keygen` line) cannot tell, and
/// would wrap new KEKs that nobody else can open. With it, the mismatch is found before
/// anything is written.
public enum RootKeyIdentities {
    /// Refuses a keyring in which any id is recorded with another check value.
    /// Ids never recorded pass: they are recorded when they first wrap or open a KEK.
    public static func verify(_ connection: PostgresConnection, _ rootKeys: RootKeys) throws {
        let recorded = try recordedValues(connection, ids: rootKeys.keyring.ids)
        for id in rootKeys.keyring.ids {
            guard let stored = recorded[id] else { continue }
            guard try rootKeys.cipher(id: id).checkValue() == stored else {
                throw KeyManagementError.rootKeyMismatch(id: id)
            }
        }
    }

    /// Records root key `id` of this keyring when it has no row yet, and refuses when its row
    /// holds another value (a concurrent writer recorded a different key first).
    /// Call inside the transaction that makes the key matter (a KEK wrapped or opened under it).
    public static func record(_ connection: PostgresConnection, _ rootKeys: RootKeys, id: String, actor: String) throws {
        let value = try rootKeys.cipher(id: id).checkValue()
        let inserted = try connection.execute("""
            INSERT INTO root_keys (id, check_value, scheme) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING
            """, [id, value.bytes, value.scheme])
        if inserted == 1 {
            try AuditLog.append(connection, actor: actor, action: .rootKeyRecorded, target: "root:\(id)",
                                details: ["scheme": .text(value.scheme)])
            return
        }
        guard try recordedValues(connection, ids: [id])[id] == value else {
            throw KeyManagementError.rootKeyMismatch(id: id)
        }
    }

    /// Root key ids that have a recorded check value.
    public static func recordedIDs(_ connection: PostgresConnection) throws -> Set<String> {
        Set(try connection.query("SELECT id FROM root_keys").map { try $0.decode(0) })
    }

    private static func recordedValues(_ connection: PostgresConnection, ids: [String]) throws -> [String: RootKeyCheckValue] {
        var values: [String: RootKeyCheckValue] = [:]
        for row in try connection.query("SELECT id, check_value, scheme FROM root_keys WHERE id = ANY($1::text[])", [PostgresArray(ids)]) {
            values[try row.decode(0)] = RootKeyCheckValue(bytes: try row.decode(1), scheme: try row.decode(2))
        }
        return values
    }
}
