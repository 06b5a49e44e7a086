import EnvelopeCrypto
import Foundation
import KeyWrapping
import PostgresClient

/// The `keks` table: generating, listing and moving KEKs through their lifecycle.
///
/// Every change runs in one transaction with its audit row, and each state change is
/// guarded by the database state it depends on (row locks, DEK counts), not by what the
/// caller saw earlier.
public struct KEKStore {
    public let connection: PostgresConnection
    public let actor: String

    public init(connection: PostgresConnection, actor: String) {
        self.connection = connection
        self.actor = actor
    }

    /// Creates a random KEK wrapped under the active root key, `pending` until activated.
    /// The stored envelope is opened again before commit (key confirmation).
    @discardableResult
    public func generate(rootKeys: RootKeys, activate: Bool = false) throws -> Int32 {
        try connection.transaction { try generateLocked(rootKeys: rootKeys, activate: activate) }
    }

    /// `generate` for callers that already hold a transaction. Refused, before anything is
    /// written, unless this keyring opens every KEK in use (`KeyringProof`).
    func generateLocked(rootKeys: RootKeys, activate: Bool) throws -> Int32 {
        try KeyringProof.requireForNewKEK(connection, rootKeys, actor: actor)
        let root = try rootKeys.activeCipher()
        try RootKeyIdentities.record(connection, rootKeys, id: root.rootKeyID, actor: actor)
        let id: Int32 = try connection.query("SELECT nextval(pg_get_serial_sequence('keks', 'id'))::int4")[0].decode(0)
        let key = try KeyGenerator.newKEK()
        let wrapped = try root.wrapKEK(key, kekID: id)
        _ = try root.unwrapKEK(wrapped, kekID: id)
        try connection.execute(
            "INSERT INTO keks (id, root_key_id, wrapped_key, state) VALUES ($1, $2, $3, 'pending')",
            [id, root.rootKeyID, wrapped])
        try AuditLog.append(connection, actor: actor, action: .kekGenerated, target: "kek:\(id)",
                            details: ["root_key_id": .text(root.rootKeyID)])
        if activate { try activateLocked(id, rootKeys: rootKeys) }
        return id
    }

    /// Makes a pending KEK the active one; the previous active KEK becomes `decrypt_only`.
    /// Refused unless `rootKeys` opens every KEK in use and the pending one.
    public func activate(_ id: Int32, rootKeys: RootKeys) throws {
        try connection.transaction { try activateLocked(id, rootKeys: rootKeys) }
    }

    private func activateLocked(_ id: Int32, rootKeys: RootKeys) throws {
        let state = try lockedState(id)
        guard state == .pending else {
            throw KeyManagementError.wrongState(kekID: id, state: state.rawValue, expected: ["pending"], action: "activate")
        }
        try KeyringProof.require(connection, rootKeys, including: [id], actor: actor)
        let demoted = try connection.query(
            "UPDATE keks SET state = 'decrypt_only' WHERE state = 'active' RETURNING id")
        for row in demoted {
            let old: Int32 = try row.decode(0)
            try AuditLog.append(connection, actor: actor, action: .kekDeactivated, target: "kek:\(old)",
                                details: ["replaced_by": .int(Int64(id))])
        }
        try connection.execute("UPDATE keks SET state = 'active', activated_at = now() WHERE id = $1", [id])
        try AuditLog.append(connection, actor: actor, action: .kekActivated, target: "kek:\(id)")
    }

    /// Retires a `decrypt_only` KEK, in a transaction that sees zero DEKs under it.
    public func retire(_ id: Int32, jobID: Int64? = nil) throws {
        try connection.transaction { try retireLocked(id, jobID: jobID) }
    }

    /// The retirement itself, for callers that already hold a transaction.
    func retireLocked(_ id: Int32, jobID: Int64?) throws {
        let state = try lockedState(id)
        guard state == .decryptOnly || state == .compromised else {
            throw KeyManagementError.wrongState(kekID: id, state: state.rawValue, expected: ["decrypt_only", "compromised"],
                                                action: "retire")
        }
        let remaining = try dekCount(id)
        guard remaining == 0 else { throw KeyManagementError.deksRemain(kekID: id, count: remaining, action: "retire") }
        try connection.execute("UPDATE keks SET state = 'retired', retired_at = now() WHERE id = $1", [id])
        var details: [String: AuditValue] = ["deks_remaining": .int(0), "previous_state": .text(state.rawValue)]
        if let jobID { details["job_id"] = .int(jobID) }
        try AuditLog.append(connection, actor: actor, action: .kekRetired, target: "kek:\(id)", details: details)
    }

    /// Schedules the irreversible erasure of a retired KEK after a grace window.
    ///
    /// Refused while any DEK references it, and unless a verification that found no
    /// failures ran after its retirement.
    public func scheduleDestruction(_ id: Int32, after grace: TimeInterval) throws -> Date {
        try connection.transaction {
            let state = try lockedState(id)
            guard state == .retired else {
                throw KeyManagementError.wrongState(kekID: id, state: state.rawValue, expected: ["retired"], action: "destroy")
            }
            let remaining = try dekCount(id)
            guard remaining == 0 else { throw KeyManagementError.deksRemain(kekID: id, count: remaining, action: "destroy") }
            // kek_verifications, not the audit log: any application may append audit rows.
            let verified: Bool = try connection.query("""
                SELECT EXISTS (SELECT 1 FROM kek_verifications v, keks k
                               WHERE k.id = $1 AND v.at > k.retired_at AND v.failures = 0)
                """, [id])[0].decode(0)
            guard verified else { throw KeyManagementError.verificationRequired(kekID: id) }
            let when: Date = try connection.query(
                "UPDATE keks SET destroy_after = now() + make_interval(secs => $2) WHERE id = $1 RETURNING destroy_after",
                [id, grace])[0].decode(0)
            try AuditLog.append(connection, actor: actor, action: .kekDestroyScheduled, target: "kek:\(id)",
                                details: ["grace_seconds": .int(Int64(grace))])
            return when
        }
    }

    /// Cancels a scheduled destruction that has not happened yet.
    public func cancelDestruction(_ id: Int32) throws {
        try connection.transaction {
            let changed = try connection.execute(
                "UPDATE keks SET destroy_after = NULL WHERE id = $1 AND state = 'retired' AND destroy_after IS NOT NULL", [id])
            guard changed == 1 else {
                throw KeyManagementError.wrongState(kekID: id, state: try lockedState(id).rawValue,
                                                    expected: ["retired with a scheduled destruction"], action: "cancel destruction of")
            }
            try AuditLog.append(connection, actor: actor, action: .kekDestroyCancelled, target: "kek:\(id)")
        }
    }

    /// Erases the wrapped key of every KEK whose grace window has passed; keeps the row and dates.
    @discardableResult
    public func destroyDue() throws -> [Int32] {
        try connection.transaction {
            let destroyed: [Int32] = try connection.query("""
                UPDATE keks SET state = 'destroyed', wrapped_key = NULL, destroyed_at = now()
                WHERE state = 'retired' AND destroy_after <= now()
                  AND NOT EXISTS (SELECT 1 FROM data_keys d WHERE d.kek_id = keks.id)
                RETURNING id
                """).map { try $0.decode(0) }
            for id in destroyed {
                try AuditLog.append(connection, actor: actor, action: .kekDestroyed, target: "kek:\(id)")
            }
            return destroyed
        }
    }

    /// Marks a KEK compromised: it no longer counts as trustworthy, and its DEKs' values
    /// must be re-encrypted (`kek reencrypt --kek ID`). When it was the active KEK, a new
    /// one is generated and activated in the same transaction so writers can go on.
    /// Refused unless `rootKeys` opens every other KEK in use (and, for the replacement, passes
    /// `KeyringProof.requireForNewKEK`).
    public func markCompromised(_ id: Int32, rootKeys: RootKeys) throws -> Int32? {
        try connection.transaction {
            let state = try lockedState(id)
            try KeyringProof.require(connection, rootKeys, excluding: [id], actor: actor)
            guard state != .destroyed else {
                throw KeyManagementError.wrongState(kekID: id, state: state.rawValue, expected: ["any but destroyed"],
                                                    action: "mark compromised")
            }
            try connection.execute("UPDATE keks SET state = 'compromised', compromised_at = now() WHERE id = $1", [id])
            try AuditLog.append(connection, actor: actor, action: .kekCompromised, target: "kek:\(id)",
                                details: ["previous_state": .text(state.rawValue), "deks": .int(try DEKCounts.total(connection, keks: [id]))])
            let replacement = state == .active ? try generateLocked(rootKeys: rootKeys, activate: true) : nil
            return replacement
        }
    }

    /// Every KEK with its DEK count, newest first.
    ///
    /// The counts are the database's maintained ones (`DEKCounts`, sql/100): exact as of this
    /// statement's snapshot, without a scan over `data_keys` (the status refresher calls this
    /// every second, at any number of DEKs).
    public func list() throws -> [KEKRecord] {
        try connection.query("""
            SELECT k.id, k.state, k.root_key_id, k.created_at, k.activated_at, k.retired_at, k.destroy_after,
                   k.destroyed_at, kek_wraps(k.id), coalesce(d.deks, 0), now()
            FROM keks k LEFT JOIN kek_dek_counts_current d ON d.kek_id = k.id
            ORDER BY k.id DESC
            """).map { row in
            KEKRecord(
                id: try row.decode(0), state: try row.decodeCase(1),
                rootKeyID: try row.decode(2), createdAt: try row.decode(3), activatedAt: try row.decode(4),
                retiredAt: try row.decode(5), destroyAfter: try row.decode(6), destroyedAt: try row.decode(7),
                wrapCount: try row.decode(8), dekCount: try row.decode(9), dekCountAsOf: try row.decode(10),
                dekCountSource: .maintained)
        }
    }

    func lockedState(_ id: Int32) throws -> KEKState {
        guard let row = try connection.query("SELECT state FROM keks WHERE id = $1 FOR UPDATE", [id]).first else {
            throw KeyManagementError.kekNotFound(id: id)
        }
        return try row.decodeCase(0)
    }

    /// The DEKs under KEK `id`: the maintained count when it is zero (exact in this statement's
    /// snapshot; after `lockedState` every transaction that was writing DEKs under the KEK has
    /// ended), else `count(*)`. Zero, the answer right after a rotation, needs no walk of the
    /// KEK's index range, which is then all dead entries (a count visits each: 145 ms per 1M moved
    /// DEKs), and the `keks` trigger (sql/040, KK003) counts them for every role anyway before a
    /// KEK is retired or destroyed; a count above zero is confirmed on the data, so counts that
    /// drifted (triggers turned off by a superuser) never block a KEK nothing is under.
    func dekCount(_ id: Int32) throws -> Int64 {
        guard try DEKCounts.total(connection, keks: [id]) > 0 else { return 0 }
        return try connection.query("SELECT count(*) FROM data_keys WHERE kek_id = $1", [id])[0].decode(0)
    }
}
