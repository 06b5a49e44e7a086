import PostgresClient

/// Plain sentences about KEKs in use that may be unopenable, for `kek status`, `kek keys list`
/// and `kek verify`: a KEK under a root key id no kek process has recorded, and (given a
/// keyring) a KEK this keyring cannot open. Reads only.
///
/// Why: an unopenable active KEK makes every new secret fail; an operator must see it named,
/// with the way out (runbooks/unopenable-kek.md), not infer it from failing writes.
public enum KEKHealth {
    public static let runbook = "runbooks/unopenable-kek.md"

    public static func findings(_ connection: PostgresConnection, rootKeys: RootKeys?) throws -> [String] {
        var findings: [String] = []
        let recorded = try RootKeyIdentities.recordedIDs(connection)
        for row in try connection.query(
            "SELECT id, state, root_key_id FROM keks WHERE state IN ('active', 'decrypt_only') ORDER BY id") {
            let id: Int32 = try row.decode(0)
            let state: String = try row.decode(1)
            let root: String = try row.decode(2)
            if !recorded.contains(root) {
                findings.append("KEK \(id) (\(state)) is wrapped under root key '\(root)', which has no recorded identity: "
                    + "no kek process has shown it can open this KEK yet. If no keyring holds '\(root)', see \(runbook)")
            }
        }
        guard let rootKeys else { return findings }
        do {
            for kek in try KeyringProof.unopenable(connection, rootKeys, actor: nil) {
                findings.append("\(kek.description): it cannot be opened by this keyring; see \(runbook)")
            }
        } catch let error as KeyManagementError {
            findings.append(error.description)
        }
        return findings
    }
}
