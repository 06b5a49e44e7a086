import Foundation
import KeyWrapping
import PostgresClient

/// What an import will do to each name, decided against the rows stored now.
struct EnvImportPlan {
    /// A row of `project_secrets` that a source or the manifest names.
    struct Existing {
        var id: UUID
        var dekID: Int64?
        var ciphertext: [UInt8]?
        var kekID: Int32?
        var wrappedDEK: [UInt8]?
    }

    var entries: [EnvImportReport.Entry] = []
    /// Candidates (by index) that get a new row with this id.
    var inserts: [(candidate: Int, id: UUID)] = []
    /// Candidates that give an existing row a new value: stubs filled, conflicts updated.
    var updates: [(candidate: Int, id: UUID, oldDEK: Int64?)] = []
    /// Declared names with no row: stored as stubs.
    var stubs: [(name: String, description: String?)] = []

    var hasConflicts: Bool { entries.contains { $0.status == .conflict } }

    /// Reads the project's rows for `names` (locked when the import will write) with their DEKs.
    static func loadExisting(_ connection: PostgresConnection, project: UUID, names: [String], lock: Bool) throws -> [String: Existing] {
        let rows = try connection.query("""
            SELECT s.name, s.id, s.dek_id, s.ciphertext, d.kek_id, d.wrapped_key
            FROM project_secrets s LEFT JOIN data_keys d ON d.id = s.dek_id
            WHERE s.project_id = $1 AND s.name = ANY($2::text[])
            \(lock ? "FOR UPDATE OF s" : "")
            """, [project, PostgresArray(names)])
        var existing: [String: Existing] = [:]
        for row in rows {
            existing[try row.decode(0)] = Existing(id: try row.decode(1), dekID: try row.decode(2), ciphertext: try row.decode(3),
                                                  kekID: try row.decode(4), wrappedDEK: try row.decode(5))
        }
        return existing
    }

    /// Classifies every candidate and declared name. Stored values are decrypted to compare
    /// (no hash of a value is ever stored), compared in constant time, and wiped.
    static func make(_ collected: EnvCollected, existing: [String: Existing], policy: EnvConflictPolicy,
                     project: UUID, keks: KEKCiphers) throws -> EnvImportPlan {
        var plan = EnvImportPlan()
        for (index, candidate) in collected.candidates.enumerated() {
            var entry = EnvImportReport.Entry(name: candidate.name, status: .created, origin: candidate.origin,
                                              line: candidate.line, variable: candidate.variable)
            if let row = existing[candidate.name] {
                if let stored = try storedValue(row, project: project, keks: keks) {
                    if stored.constantTimeEquals(candidate.value.bytes) {
                        entry.status = .unchanged
                    } else {
                        switch policy {
                        case .refuse:
                            entry.status = .conflict
                            entry.reason = "stored with a different value"
                        case .update:
                            entry.status = .updated
                            plan.updates.append((index, row.id, row.dekID))
                        case .skip:
                            entry.status = .skipped
                            entry.reason = "stored with a different value; kept"
                        }
                    }
                    stored.wipe()
                } else {
                    entry.reason = "fills a declared stub"
                    plan.updates.append((index, row.id, nil))
                }
            } else {
                plan.inserts.append((index, UUID()))
            }
            plan.entries.append(entry)
        }
        for declared in collected.declared {
            let stored = existing[declared.name]
            plan.entries.append(EnvImportReport.Entry(
                name: declared.name, status: .missing, origin: "manifest",
                reason: stored == nil ? "declared in the manifest, absent from the sources; stored as a stub"
                    : stored?.dekID == nil ? "declared in the manifest, absent from the sources; stub already stored"
                    : "declared in the manifest, absent from the sources; a value is already stored"))
            if stored == nil { plan.stubs.append(declared) }
        }
        return plan
    }

    private static func storedValue(_ row: Existing, project: UUID, keks: KEKCiphers) throws -> SecretBytes? {
        guard let dekID = row.dekID, let ciphertext = row.ciphertext, let kekID = row.kekID, let wrapped = row.wrappedDEK else {
            return nil
        }
        let dek = try DEKCipher(id: dekID, key: try keks.cipher(kekID).unwrapDEK(wrapped, dekID: dekID))
        return SecretBytes(try dek.openSecret(ciphertext, id: row.id, projectID: project))
    }
}
