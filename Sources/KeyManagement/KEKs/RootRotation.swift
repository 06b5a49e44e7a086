import KeyWrapping
import PostgresClient

/// Re-wraps every KEK under the active root key, so the old root keys can be dropped from
/// `KEK_ROOT_KEYS`. A few rows: one transaction, each row audited.
public enum RootRotation {
    public struct Outcome: Sendable {
        public var rewrapped: [Int32]
        public var activeRootID: String
        /// Root key ids no KEK uses any more (safe to remove from the keyring).
        public var unusedRootIDs: [String]
        /// Retired KEKs left under a root key this keyring lacks (an unopenable KEK taken out of
        /// use, runbooks/unopenable-kek.md). Retired KEKs are empty (KK003): nothing needs them,
        /// and refusing for them would block every later root rotation.
        public var skippedRetired: [Int32] = []
    }

    public static func run(_ connection: PostgresConnection, rootKeys: RootKeys, actor: String) throws -> Outcome {
        try connection.transaction {
            try KeyringProof.requireForNewKEK(connection, rootKeys, actor: actor)
            let active = try rootKeys.activeCipher()
            try RootKeyIdentities.record(connection, rootKeys, id: active.rootKeyID, actor: actor)
            var moved: [Int32] = []
            var skipped: [Int32] = []
            for row in try connection.query("""
                SELECT id, root_key_id, wrapped_key, state FROM keks
                WHERE wrapped_key IS NOT NULL AND root_key_id <> $1 ORDER BY id FOR UPDATE
                """, [active.rootKeyID]) {
                let id: Int32 = try row.decode(0)
                let oldRoot: String = try row.decode(1)
                if try row.decode(3, as: String.self) == "retired", !rootKeys.keyring.contains(id: oldRoot) {
                    skipped.append(id)
                    continue
                }
                let key = try rootKeys.cipher(id: oldRoot).unwrapKEK(try row.decode(2), kekID: id)
                let wrapped = try active.wrapKEK(key, kekID: id)
                _ = try active.unwrapKEK(wrapped, kekID: id)
                try connection.execute("UPDATE keks SET root_key_id = $2, wrapped_key = $3 WHERE id = $1",
                                       [id, active.rootKeyID, wrapped])
                try AuditLog.append(connection, actor: actor, action: .kekRewrappedUnderRoot, target: "kek:\(id)",
                                    details: ["from_root": .text(oldRoot), "to_root": .text(active.rootKeyID)])
                moved.append(id)
            }
            let used: [String] = try connection.query(
                "SELECT DISTINCT root_key_id FROM keks WHERE wrapped_key IS NOT NULL").map { try $0.decode(0) }
            let unused = rootKeys.keyring.ids.filter { !used.contains($0) }
            try AuditLog.append(connection, actor: actor, action: .rootRotation, target: "root:\(active.rootKeyID)",
                                details: ["keks_rewrapped": .int(Int64(moved.count)), "unused_roots": .texts(unused)])
            return Outcome(rewrapped: moved, activeRootID: active.rootKeyID, unusedRootIDs: unused, skippedRetired: skipped)
        }
    }
}
