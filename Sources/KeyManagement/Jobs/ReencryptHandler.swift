import Foundation
import JobQueue
import PostgresClient

/// The arguments of a `reencrypt` job.
public struct ReencryptArguments: Codable, Sendable {
    /// The KEKs whose DEKs and values are replaced; nil with `all` means every KEK.
    public var kekIds: [Int32]?
    public var all: Bool?
    public var batchSize: Int?

    public init(kekIds: [Int32]? = nil, all: Bool? = nil, batchSize: Int? = nil) {
        self.kekIds = kekIds
        self.all = all
        self.batchSize = batchSize
    }
}

/// Runs a `reencrypt` job: every DEK under the chosen KEKs is replaced by a new DEK under
/// the active KEK and every value it protected is encrypted again, in resumable batches.
/// A compromised KEK left with no DEK is retired at the end.
struct ReencryptHandler: JobHandler {
    static let kind = "reencrypt"

    struct Checkpoint: Codable {
        var keks: [Int32]
        var upTo: Int64
        var index = 0
        var afterId: Int64 = 0
        var replaced: Int64 = 0
        var values: Int64 = 0
        var failures: [RewrapFailure] = []
    }

    func run(_ context: JobContext) throws -> JobOutcome {
        let arguments = try context.decodeArguments(ReencryptArguments.self, decoder: JobJSON.decoder)
        let keks = KEKCiphers(connection: context.connection, rootKeys: try RootKeys.fromEnvironment())
        var checkpoint = try context.decodeCheckpoint(Checkpoint.self, decoder: JobJSON.decoder)
            ?? (try begin(context, arguments))
        while checkpoint.index < checkpoint.keks.count {
            let current = checkpoint
            checkpoint = try context.batch { connection in
                let result = try Reencrypt.batch(connection, keks: keks, kekID: current.keks[current.index], after: current.afterId,
                                                 upTo: current.upTo, limit: arguments.batchSize ?? 200)
                var next = current
                next.replaced += Int64(result.deksReplaced)
                next.values += Int64(result.valuesReencrypted)
                next.failures += result.failures
                if let last = result.lastID { next.afterId = last } else { next.index += 1; next.afterId = 0 }
                return (next, JobProgress(done: next.replaced, checkpointJSON: try JobJSON.encode(next)))
            }
        }
        let final = checkpoint
        try context.batch(progressDone: final.replaced) { connection in
            let store = KEKStore(connection: connection, actor: context.workerID)
            for kek in final.keks where try store.lockedState(kek) == .compromised && store.dekCount(kek) == 0 {
                try store.retireLocked(kek, jobID: context.job.id)
            }
            try AuditLog.append(connection, actor: context.workerID, action: .reencryptionFinished, target: nil, details: [
                "job_id": .int(context.job.id), "keks": .texts(final.keks.map(String.init)), "deks_replaced": .int(final.replaced),
                "values": .int(final.values), "failures": .int(Int64(final.failures.count))])
        }
        guard final.failures.isEmpty else {
            let named = final.failures.prefix(5).map { "DEK \($0.dekId): \($0.reason)" }.joined(separator: "; ")
            throw PermanentJobError("re-encryption left \(final.failures.count) DEKs it could not open: \(named)")
        }
        return .completed(result: try JobJSON.encode(["deks_replaced": final.replaced, "values": final.values]))
    }

    private func begin(_ context: JobContext, _ arguments: ReencryptArguments) throws -> Checkpoint {
        let chosen: [Int32] = arguments.all == true
            ? try context.connection.query("SELECT id FROM keks WHERE wrapped_key IS NOT NULL ORDER BY id").map { try $0.decode(0) }
            : arguments.kekIds ?? []
        guard !chosen.isEmpty else { throw PermanentJobError("reencrypt needs kek_ids or all: true") }
        let upTo: Int64 = try context.connection.query("SELECT coalesce(max(id), 0) FROM data_keys")[0].decode(0)
        let total: Int64 = try context.connection.query(
            "SELECT count(*) FROM data_keys WHERE kek_id = ANY($1::int4[])", [PostgresArray(chosen)])[0].decode(0)
        let checkpoint = Checkpoint(keks: chosen, upTo: upTo)
        try context.batch { connection in
            try AuditLog.append(connection, actor: context.workerID, action: .reencryptionStarted, target: nil, details: [
                "job_id": .int(context.job.id), "keks": .texts(chosen.map(String.init)), "deks": .int(total)])
            return ((), JobProgress(done: 0, total: total, checkpointJSON: try JobJSON.encode(checkpoint)))
        }
        return checkpoint
    }
}
