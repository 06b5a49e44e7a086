import KeyWrapping
import PostgresClient

/// A KEK in use (`active` or `decrypt_only`) that a keyring cannot open, and why.
public struct UnopenableKEK: Equatable, Sendable, CustomStringConvertible {
    public var kekID: Int32
    public var state: String
    public var rootKeyID: String
    /// True when the keyring has no entry for `rootKeyID`; false when it has one that fails.
    public var rootKeyMissing: Bool

    public var description: String {
        "KEK \(kekID) (\(state), root key '\(rootKeyID)') "
            + (rootKeyMissing ? "is under a root key this keyring lacks" : "does not open with this keyring's key '\(rootKeyID)'")
    }

    /// One sentence for people: which KEKs, which root key ids to add, where the runbook is.
    public static func summary(_ failures: [UnopenableKEK]) -> String {
        let missing = Array(Set(failures.filter(\.rootKeyMissing).map(\.rootKeyID))).sorted()
        return "this keyring cannot open the KEKs in use: " + failures.map(\.description).joined(separator: "; ")
            + (missing.isEmpty ? "" : ". KEK_ROOT_KEYS lacks root key(s) \(missing.joined(separator: ", ")): add them")
            + " (runbooks/unopenable-kek.md)"
    }
}

/// "Prove before you create": before a KEK is generated, activated or rewrapped, the
/// process opens the active KEK and every `decrypt_only` KEK with its own keyring.
///
/// Why: a process that cannot read the keys in use must never add one. A wrong keyring that
/// activated its own KEK would make every application's next write and every healthy
/// worker's next rewrap fail; refusing here costs one query and a few unwraps.
public enum KeyringProof {
    /// What a keyring showed it can open.
    public struct Proof: Sendable {
        public var failures: [UnopenableKEK]
        /// Root key ids that opened at least one KEK.
        public var opened: Set<String>
    }

    /// Opens the KEKs in use (minus `excluded`, plus `included`) with `rootKeys`. Checks the
    /// recorded identities first, so the same id with another key is named as such. Root key
    /// ids that opened a KEK and had no recorded check value are recorded (databases from
    /// before `root_keys`) when `actor` is given; reports (`kek status`) pass nil: no writes.
    public static func prove(
        _ connection: PostgresConnection, _ rootKeys: RootKeys, including included: Set<Int32> = [],
        excluding excluded: Set<Int32> = [], actor: String?
    ) throws -> Proof {
        try RootKeyIdentities.verify(connection, rootKeys)
        var proof = Proof(failures: [], opened: [])
        for row in try connection.query("""
            SELECT id, state, root_key_id, wrapped_key FROM keks
            WHERE (state IN ('active', 'decrypt_only') OR id = ANY($1::int4[])) AND NOT id = ANY($2::int4[]) ORDER BY id
            """, [PostgresArray(Array(included)), PostgresArray(Array(excluded))]) {
            let id: Int32 = try row.decode(0)
            let state: String = try row.decode(1)
            let root: String = try row.decode(2)
            guard rootKeys.keyring.contains(id: root) else {
                proof.failures.append(UnopenableKEK(kekID: id, state: state, rootKeyID: root, rootKeyMissing: true))
                continue
            }
            do {
                guard let wrapped: [UInt8] = try row.decode(3) else { throw KeyManagementError.kekUnreadable(id: id, state: state) }
                _ = try rootKeys.cipher(id: root).unwrapKEK(wrapped, kekID: id)
                proof.opened.insert(root)
            } catch is KeyWrappingError {
                proof.failures.append(UnopenableKEK(kekID: id, state: state, rootKeyID: root, rootKeyMissing: false))
            }
        }
        if proof.failures.isEmpty, let actor {
            let recorded = try RootKeyIdentities.recordedIDs(connection)
            for root in proof.opened.subtracting(recorded).sorted() {
                try RootKeyIdentities.record(connection, rootKeys, id: root, actor: actor)
            }
        }
        return proof
    }

    /// The KEKs in use that `rootKeys` cannot open (empty: proven); see `prove`.
    public static func unopenable(_ connection: PostgresConnection, _ rootKeys: RootKeys, actor: String?) throws -> [UnopenableKEK] {
        try prove(connection, rootKeys, actor: actor).failures
    }

    /// Throws `keyringUnproven` (naming the root key ids it lacks) unless `rootKeys` opens
    /// every KEK in use (minus `excluded`: the KEK being marked compromised) and those of
    /// `included` (a pending KEK about to be activated).
    @discardableResult
    public static func require(
        _ connection: PostgresConnection, _ rootKeys: RootKeys, including included: Set<Int32> = [],
        excluding excluded: Set<Int32> = [], actor: String
    ) throws -> Proof {
        let proof = try prove(connection, rootKeys, including: included, excluding: excluded, actor: actor)
        guard proof.failures.isEmpty else { throw KeyManagementError.keyringUnproven(proof.failures) }
        return proof
    }

    /// `require`, before wrapping a KEK under the keyring's active root key. A root key id new
    /// to a store that already knows others comes in only beside a key that opened a KEK in
    /// use (a root rotation, runbooks/root-key-rotation.md), never alone: with nothing left in
    /// use (the active KEK just marked compromised) a stranger's keyring would otherwise
    /// plant its own KEK.
    public static func requireForNewKEK(_ connection: PostgresConnection, _ rootKeys: RootKeys, actor: String) throws {
        let proof = try require(connection, rootKeys, actor: actor)
        let recorded = try RootKeyIdentities.recordedIDs(connection)
        guard proof.opened.isEmpty, !recorded.isEmpty, !recorded.contains(rootKeys.activeID) else { return }
        throw KeyManagementError.rootKeyUnknown(id: rootKeys.activeID, known: recorded.sorted())
    }
}
