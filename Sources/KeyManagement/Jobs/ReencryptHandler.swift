import Foundation
import JobQueue
import PostgresClient

/// Runs a `reencrypt` job: every DEK under the chosen KEKs is replaced by a new DEK under
/// the active KEK and every value it protected is encrypted again, in resumable batches.
///
/// It ends on a data predicate, not on "the walk reached the end": a final pass comes back
/// for the DEKs that other transactions held, waits for them (bounded by
/// `lock_wait_seconds`), and the job completes only when a count finds no DEK left under the
/// chosen KEKs; otherwise it fails naming what is left. The chosen KEKs are then retired.
struct ReencryptHandler: JobHandler {
    struct Checkpoint: Codable, Sendable, Equatable {
        var keks: [Int32]
        var index = 0
        var afterId: Int64 = 0
        var replaced: Int64 = 0
        var rewrapped: Int64 = 0
        var values: Int64 = 0
        var failures: [RewrapFailure] = []
        /// The KEK `all: true` generated and activated before it started.
        var newKek: Int32?

        var done: Int64 { replaced + rewrapped }

        enum CodingKeys: String, CodingKey {
            case keks, index, replaced, rewrapped, values, failures
            case afterId = "after_id", newKek = "new_kek"
        }
    }

    func run(_ context: JobContext, _ arguments: ReencryptArguments, _ checkpoint: Checkpoint?) throws -> JobOutcome {
        let rootKeys = try RootKeys.fromEnvironment()
        var checkpoint = try checkpoint ?? ReencryptStart.begin(context, arguments, rootKeys: rootKeys)
        let batchSize = arguments.batchSize ?? ReencryptArguments.defaultBatchSize
        let limit = JobArgumentBounds.throttledBatchSize(batchSize, maxRate: arguments.maxRate)
        while checkpoint.index < checkpoint.keks.count {
            try step(context, &checkpoint, rootKeys: rootKeys, kekID: checkpoint.keks[checkpoint.index], after: checkpoint.afterId,
                     limit: limit, rate: arguments.maxRate, advance: true)
        }
        try finalPass(context, &checkpoint, rootKeys: rootKeys, limit: limit, arguments: arguments)
        let final = checkpoint
        try context.batch(progressDone: final.done) { connection in
            let store = KEKStore(connection: connection, actor: context.workerID)
            for kek in final.keks where try [.compromised, .decryptOnly].contains(store.lockedState(kek)) && store.dekCount(kek) == 0 {
                try store.retireLocked(kek, jobID: context.job.id)
            }
            try AuditLog.append(connection, actor: context.workerID, action: .reencryptionFinished, target: nil, details: [
                "job_id": .int(context.job.id), "keks": .texts(final.keks.map(String.init)), "deks_replaced": .int(final.replaced),
                "deks_rewrapped": .int(final.rewrapped), "values": .int(final.values),
                "failures": .int(Int64(final.failures.count))])
        }
        guard final.failures.isEmpty else {
            let named = final.failures.prefix(5).map { "DEK \($0.dekId): \($0.reason)" }.joined(separator: "; ")
            throw PermanentJobError("re-encryption left \(final.failures.count) DEKs it could not re-encrypt under their "
                + "compromised KEK: \(named)")
        }
        return try .completed(ReencryptResult(
            deksReplaced: final.replaced, deksRewrapped: final.rewrapped, values: final.values, newKek: final.newKek,
            note: final.rewrapped == 0 ? nil : "\(final.rewrapped) DEKs protect no value of project_secrets or signature_keys "
                + "(or are still referenced by a table kek does not know): they were kept with their key and given a new "
                + "wrap under the active KEK; re-encrypt the data they protect in the application that owns it"))
    }

    /// One batch of `kekID`'s DEKs after `after`, committed with the checkpoint after it;
    /// `advance` moves the main walk's position with it (the final pass leaves it at the end).
    @discardableResult
    private func step(_ context: JobContext, _ checkpoint: inout Checkpoint, rootKeys: RootKeys, kekID: Int32, after: Int64,
                      upTo: Int64 = .max, limit: Int, rate: Double?, advance: Bool) throws -> ReencryptBatchResult {
        let current = checkpoint
        let (result, next) = try RotationThrottle.batch(context, units: limit, maxRate: rate) {
            try context.batch { connection in
            // KEKs are read in the batch's own transaction: the active one changes when a rotation starts.
            let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
            let result = try Reencrypt.batch(connection, keks: keks, kekID: kekID, after: after, upTo: upTo, limit: limit)
            var next = current
            next.replaced += Int64(result.deksReplaced)
            next.rewrapped += Int64(result.deksRewrapped)
            next.values += Int64(result.valuesReencrypted)
            let known = Set(next.failures.map(\.dekId))
            next.failures += result.failures.filter { !known.contains($0.dekId) }
            if advance {
                if let last = result.lastID { next.afterId = last } else { next.index += 1; next.afterId = 0 }
            }
            return ((result, next), JobProgress(done: next.done, checkpoint: next))
            }
        } moved: { $0.0.moved }
        checkpoint = next
        return result
    }

    /// Walks the chosen KEKs again until no DEK is left under them but the ones that
    /// failed; waits (renewing the lease) while only rows other transactions hold are left.
    private func finalPass(_ context: JobContext, _ checkpoint: inout Checkpoint, rootKeys: RootKeys, limit: Int,
                           arguments: ReencryptArguments) throws {
        let deadline = Date().addingTimeInterval(arguments.lockWaitSeconds ?? ReencryptArguments.defaultLockWaitSeconds)
        let all = checkpoint.keks
        while true {
            let failed = checkpoint.failures.map(\.dekId)
            // Most passes leave nothing: the maintained counts say so without walking the index
            // ranges the main walk filled with dead entries.
            let left = try context.read { try DEKCounts.left(besides: failed, under: all, $0) }
            if left == 0 { return }
            guard Date() < deadline else {
                let found = try RotationSteps.remaining(under: all, excluding: failed, limit: 10, reader: LeasedReader(context: context))
                // The counts said rows are left and the data says none: nothing is (see `RotationSteps.remaining`).
                if found.isEmpty { return }
                let ids = found.map(String.init).joined(separator: ", ")
                throw PermanentJobError("re-encryption could not reach \(left) DEKs still under KEK "
                    + "\(all.map(String.init).joined(separator: ", ")) within \(Int(arguments.lockWaitSeconds ?? ReencryptArguments.defaultLockWaitSeconds))s "
                    + "(held by other transactions): DEK \(ids); run 'kek reencrypt' again once they are free")
            }
            var moved = 0
            let end = try context.read { try RotationSteps.highestDEKID($0) }
            for kekID in all {
                // Windows of ids, as the rotation's sweep: no statement walks more than
                // `RotationSteps.idWindow` of the dead entries the main walk left.
                try RotationSteps.walkWindows(upTo: end, reader: LeasedReader(context: context)) { after, window in
                    let result = try step(context, &checkpoint, rootKeys: rootKeys, kekID: kekID, after: after, upTo: window,
                                          limit: limit, rate: arguments.maxRate, advance: false)
                    moved += result.moved
                    return result.lastID
                }
            }
            if moved == 0 {
                // Nothing moved: either rows are held, or the counts drifted (a superuser turned the
                // triggers off) and nothing is left; the data decides, read without a lock.
                let found = try RotationSteps.remaining(under: all, excluding: failed, limit: 1, reader: LeasedReader(context: context))
                if found.isEmpty { return }
                try context.wait(0.5)
            }
        }
    }
}

/// What a finished re-encryption reports.
struct ReencryptResult: Codable, Sendable, Equatable {
    var deksReplaced: Int64
    var deksRewrapped: Int64
    var values: Int64
    var newKek: Int32?
    var note: String?

    enum CodingKeys: String, CodingKey {
        case values, note
        case deksReplaced = "deks_replaced", deksRewrapped = "deks_rewrapped", newKek = "new_kek"
    }
}
