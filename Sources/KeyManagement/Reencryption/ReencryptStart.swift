import Foundation
import JobQueue
import PostgresClient

/// The first step of a `reencrypt` job: checks what it was asked against the database
/// (failing the job at once when no retry can help), picks the KEKs, and records the start.
enum ReencryptStart {
    static func begin(_ context: JobContext, _ arguments: ReencryptArguments, rootKeys: RootKeys) throws -> ReencryptHandler.Checkpoint {
        if arguments.all != true { try context.read { try checkNamed($0, arguments.kekIds ?? []) } }
        return try context.batch { connection in
            var newKek: Int32?
            let chosen: [Int32]
            if arguments.all == true {
                let store = KEKStore(connection: connection, actor: context.workerID)
                newKek = try store.generateLocked(rootKeys: rootKeys, activate: true)
                chosen = try connection.query(
                    "SELECT id FROM keks WHERE state IN ('decrypt_only', 'compromised') ORDER BY id").map { try $0.decode(0) }
            } else {
                chosen = Array(Set(arguments.kekIds ?? [])).sorted()
            }
            let total = try DEKCounts.total(connection, keks: chosen)
            var details: [String: AuditValue] = ["job_id": .int(context.job.id), "keks": .texts(chosen.map(String.init)), "deks": .int(total)]
            if let newKek { details["new_kek"] = .int(Int64(newKek)) }
            try AuditLog.append(connection, actor: context.workerID, action: .reencryptionStarted, target: nil, details: details)
            let checkpoint = ReencryptHandler.Checkpoint(keks: chosen, newKek: newKek)
            return (checkpoint, JobProgress(done: 0, total: total, checkpoint: checkpoint))
        }
    }

    /// Every named KEK must exist and hold a key, and none may be the active one (its DEKs
    /// would be replaced by DEKs under the same key): mark it compromised first.
    private static func checkNamed(_ connection: PostgresConnection, _ ids: [Int32]) throws {
        let states = Dictionary(uniqueKeysWithValues: try connection.query(
            "SELECT id, state FROM keks WHERE id = ANY($1::int4[])", [PostgresArray(ids)])
            .map { (try $0.decode(0, as: Int32.self), try $0.decodeCase(1, as: KEKState.self)) })
        for id in ids {
            guard let state = states[id] else { throw PermanentJobError(KeyManagementError.kekNotFound(id: id).description) }
            switch state {
            case .active:
                throw PermanentJobError("KEK \(id) is the active KEK: mark it compromised first ('kek keys compromised \(id)', "
                    + "which activates a replacement), or re-encrypt everything with 'kek reencrypt --all'")
            case .destroyed, .pending:
                throw PermanentJobError("KEK \(id) is \(state.rawValue) and wraps no DEK: nothing to re-encrypt")
            case .retired, .decryptOnly, .compromised:
                break
            }
        }
    }
}
