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
}

/// "Prove before you create": before a KEK is generated, activated or rewrapped, the
/// process opens the active KEK and every `decrypt_only` KEK with its own keyring.
///
/// Why: a process that cannot read the keys in use must never add one. A wrong keyring that
/// activated its own KEK would make every application's next write and every healthy
/// worker's next rewrap fail; refusing here costs one query and a few unwraps.
public enum KeyringProof {
    /// The KEKs in use (and those of `included`) that `rootKeys` cannot open (empty: proven). Checks recorded identities
    /// first, so the same id with another key is named as such. Root key ids that opened a KEK
    /// and had no recorded check value are recorded (databases from before `root_keys`) when
    /// `actor` is given; reports (`kek status`) pass nil and write nothing.
    public static func unopenable(
        _ connection: PostgresConnection, _ rootKeys: RootKeys, including included: Set<Int32> = [], actor: String?
    ) throws -> [UnopenableKEK] {
        try RootKeyIdentities.verify(connection, rootKeys)
        var failures: [UnopenableKEK] = []
        var opened: Set<String> = []
        for row in try connection.query("""
            SELECT id, state, root_key_id, wrapped_key FROM keks
            WHERE state IN ('active', 'decrypt_only') OR id = ANY($1::int4[]) ORDER BY id
            """, [PostgresArray(Array(included))]) {
            let id: Int32 = try row.decode(0)
            let state: String = try row.decode(1)
            let root: String = try row.decode(2)
            guard rootKeys.keyring.key(id: root) != nil else {
                failures.append(UnopenableKEK(kekID: id, state: state, rootKeyID: root, rootKeyMissing: true))
                continue
            }
            do {
                guard let wrapped: [UInt8] = try row.decode(3) else { throw KeyManagementError.kekUnreadable(id: id, state: state) }
                _ = try rootKeys.cipher(id: root).unwrapKEK(wrapped, kekID: id)
                opened.insert(root)
            } catch is KeyWrappingError {
                failures.append(UnopenableKEK(kekID: id, state: state, rootKeyID: root, rootKeyMissing: false))
            }
        }
        if failures.isEmpty, let actor {
            let recorded = try RootKeyIdentities.recordedIDs(connection)
            for root in opened.subtracting(recorded).sorted() {
                try RootKeyIdentities.record(connection, rootKeys, id: root, actor: actor)
            }
        }
        return failures
    }

    /// Throws `keyringUnproven` (naming the root key ids it lacks) unless `rootKeys` opens
    /// every KEK in use and those of `included` (a pending KEK about to be activated).
    /// A KEK being marked compromised is no longer in use by then, so it needs no proof.
    public static func require(
        _ connection: PostgresConnection, _ rootKeys: RootKeys, including included: Set<Int32> = [], actor: String
    ) throws {
        let failures = try unopenable(connection, rootKeys, including: included, actor: actor)
        guard failures.isEmpty else { throw KeyManagementError.keyringUnproven(failures) }
    }
}
