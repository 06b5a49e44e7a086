import Foundation
import KeyWrapping
import PostgresClient

/// Applies a plan with a fixed number of statements whatever its size: one batch of DEKs,
/// one INSERT of new rows, one UPDATE of changed rows, one DELETE of replaced DEKs, one
/// INSERT of stubs (arrays + `unnest`, no per-row round trips).
struct EnvImportWriter {
    let connection: PostgresConnection
    let keks: KEKCiphers
    let project: UUID

    func write(_ plan: EnvImportPlan, candidates: [EnvCandidate]) throws {
        let sealedCount = plan.inserts.count + plan.updates.count
        var deks: [DEKCipher] = []
        if sealedCount > 0 {
            deks = try DataKeys.createBatch(connection, count: sealedCount, under: try keks.active())
        }
        var next = 0
        func seal(_ candidate: Int, id: UUID) throws -> (dekID: Int64, ciphertext: [UInt8]) {
            let dek = deks[next]
            next += 1
            let sealed = try dek.sealSecret(candidates[candidate].value.bytes, id: id, projectID: project)
            candidates[candidate].value.wipe()
            return (dek.dekID, sealed)
        }

        if !plan.inserts.isEmpty {
            var ids: [UUID] = [], names: [String] = [], dekIDs: [Int64] = [], ciphertexts: [[UInt8]] = [], descriptions: [String] = []
            for (candidate, id) in plan.inserts {
                let sealed = try seal(candidate, id: id)
                ids.append(id)
                names.append(candidates[candidate].name)
                dekIDs.append(sealed.dekID)
                ciphertexts.append(sealed.ciphertext)
                descriptions.append(candidates[candidate].description ?? "")
            }
            try connection.execute("""
                INSERT INTO project_secrets (id, project_id, name, dek_id, ciphertext, version, description)
                SELECT u.id, $1, u.name, u.dek_id, u.ciphertext, 1, nullif(u.description, '')
                FROM unnest($2::uuid[], $3::text[], $4::int8[], $5::bytea[], $6::text[]) AS u(id, name, dek_id, ciphertext, description)
                """, [project, PostgresArray(ids), PostgresArray(names), PostgresArray(dekIDs), PostgresArray(ciphertexts),
                      PostgresArray(descriptions)])
        }

        if !plan.updates.isEmpty {
            var ids: [UUID] = [], dekIDs: [Int64] = [], ciphertexts: [[UInt8]] = [], descriptions: [String] = []
            for (candidate, id, _) in plan.updates {
                let sealed = try seal(candidate, id: id)
                ids.append(id)
                dekIDs.append(sealed.dekID)
                ciphertexts.append(sealed.ciphertext)
                descriptions.append(candidates[candidate].description ?? "")
            }
            try connection.execute("""
                UPDATE project_secrets s SET dek_id = u.dek_id, ciphertext = u.ciphertext, version = s.version + 1,
                       updated_at = now(), description = coalesce(nullif(u.description, ''), s.description)
                FROM unnest($2::uuid[], $3::int8[], $4::bytea[], $5::text[]) AS u(id, dek_id, ciphertext, description)
                WHERE s.id = u.id AND s.project_id = $1
                """, [project, PostgresArray(ids), PostgresArray(dekIDs), PostgresArray(ciphertexts), PostgresArray(descriptions)])
            let replaced = plan.updates.compactMap(\.oldDEK)
            if !replaced.isEmpty {
                try connection.execute("DELETE FROM data_keys WHERE id = ANY($1::int8[])", [PostgresArray(replaced)])
            }
        }

        if !plan.stubs.isEmpty {
            try connection.execute("""
                INSERT INTO project_secrets (project_id, name, version, description)
                SELECT $1, u.name, 0, nullif(u.description, '') FROM unnest($2::text[], $3::text[]) AS u(name, description)
                """, [project, PostgresArray(plan.stubs.map(\.name)), PostgresArray(plan.stubs.map { $0.description ?? "" })])
        }
    }
}
