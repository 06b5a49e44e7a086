import Foundation
import JobQueue
import PostgresClient

/// Runs a `rotate_kek` job: starts the rotation and splits it into parts that any worker
/// claims, waits for them, sweeps what they could not take (rows locked by the application,
/// DEKs inserted under the old KEK just before it was demoted), and retires the old KEKs
/// once a count shows none of their DEKs left.
struct RotateKEKHandler: JobHandler {
    /// The unique key that keeps one rotation at a time.
    static let uniqueKey = "rotate_kek"
    /// How often the parent looks at its parts: it sleeps through the whole rotation, so each
    /// look costs one claim and one small query, and the last part's end is noticed within this.
    static let partsPollSeconds = 0.1
    /// Sweep passes per attempt, 0.2 s apart (about 10 s), before rows that other transactions
    /// hold end the attempt (`deksHeld`; the queue retries it, from the sweep).
    static let sweepPasses = 50

    func run(_ context: JobContext, _ arguments: RotationArguments, _ checkpoint: RotationCheckpoint?) throws -> JobOutcome {
        let rootKeys = try RootKeys.fromEnvironment()
        guard var checkpoint else {
            try begin(context, arguments, rootKeys)
            return .snooze(seconds: Self.partsPollSeconds)
        }
        switch checkpoint.phase {
        case .parts:
            guard let parts = try partsOutcome(context, &checkpoint) else { return .snooze(seconds: Self.partsPollSeconds) }
            checkpoint.phase = .sweep
            checkpoint.partsDone = parts.rewrapped
            checkpoint.failures = parts.failures
            try context.batch(progressDone: checkpoint.partsDone, checkpoint: checkpoint) { _ in }
            fallthrough
        case .sweep:
            return try sweepAndFinish(context, arguments, rootKeys, &checkpoint)
        }
    }

    private func begin(_ context: JobContext, _ arguments: RotationArguments, _ rootKeys: RootKeys) throws {
        let batchSize = arguments.batchSize ?? RotationArguments.defaultBatchSize
        try PermanentRefusal.convert {
            // The read-only preparation first, holding nothing an application's write needs; then one short transaction.
            let preparation = try RotationPreparation.make(rewrapOnly: arguments.rewrapOnly,
                                                           parts: arguments.parts,
                                                           reader: LeasedReader(context: context))
            try context.batch { connection in
                let (start, parts) = try RotationSteps.start(connection, preparation, rootKeys: rootKeys, actor: context.workerID,
                                                             jobID: context.job.id)
                for (index, part) in parts.enumerated() {
                    let partArguments = RewrapPartArguments(part: part, batchSize: batchSize, maxRate: arguments.maxRate)
                    try context.enqueueChild(JobRequest(partArguments, maxAttempts: 20,
                                                        uniqueKey: "rewrap_part:\(context.job.id):\(index)"))
                }
                let checkpoint = RotationCheckpoint(phase: .parts, start: start, startedAt: Date().timeIntervalSince1970)
                return ((), JobProgress(done: 0, total: start.total, checkpoint: checkpoint))
            }
        }
    }

    /// The parts' combined result once all have finished; nil (after recording progress) while some run.
    private func partsOutcome(_ context: JobContext, _ checkpoint: inout RotationCheckpoint) throws -> RewrapPartResult? {
        var combined = RewrapPartResult(rewrapped: 0, failures: [])
        var unfinished = false
        for part in try context.parts() {
            combined.rewrapped += part.progressDone
            switch part.state {
            case .completed:
                if let text = part.resultJSON {
                    combined.failures += try JSONCodec.decode(RewrapPartResult.self, from: text).failures
                }
            case .failed, .cancelled:
                // The sweep redoes whatever this part left; its error is kept on its own row.
                break
            case .queued, .running, .paused:
                unfinished = true
            }
        }
        if unfinished {
            try context.batch(progressDone: combined.rewrapped) { _ in }
            return nil
        }
        return combined
    }

    private func sweepAndFinish(
        _ context: JobContext, _ arguments: RotationArguments, _ rootKeys: RootKeys, _ checkpoint: inout RotationCheckpoint
    ) throws -> JobOutcome {
        let start = checkpoint.start
        let (new, olds) = try context.read { connection in
            let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
            return (try keks.cipher(start.newKek), try start.oldKeks.map { try keks.cipher($0) })
        }
        // The parts' failures are not carried into the result: the sweep visits every DEK still
        // under the old KEKs and finds again those that still do not open. A job retried after
        // the rows were restored (runbooks/stuck-rotation.md) then completes instead of
        // repeating the error of its last attempt.
        var failures: [RewrapFailure] = []
        let limit = JobArgumentBounds.throttledBatchSize(arguments.batchSize ?? RotationArguments.defaultBatchSize,
                                                         maxRate: arguments.maxRate)
        // The maintained counts say, without a scan, whether anything is left to sweep: most
        // rotations leave nothing, and a sweep walks the old KEKs' index ranges, which the parts
        // have just filled with dead entries (0.8 s per 1M DEKs moved, measured).
        // When a pass read no row at all, the data decides: counts drift only where a superuser
        // turned the triggers off (a logical replica's apply), and must not hold a rotation up.
        func left(afterAPassThatRead readRows: Bool = true) throws -> Int64 {
            let counted = try context.read { try DEKCounts.left(besides: failures.map(\.dekId), under: start.oldKeks, $0) }
            guard counted > 0, !readRows else { return counted }
            let found = try RotationSteps.remaining(under: start.oldKeks, excluding: failures.map(\.dekId), limit: 1,
                                                    reader: LeasedReader(context: context))
            return found.isEmpty ? 0 : counted
        }
        var held = try left()
        var pass = 0
        while held > 0, pass < Self.sweepPasses {
            pass += 1
            if pass > 1 { try context.wait(0.2) }
            let end = try context.read { try RotationSteps.highestDEKID($0) }
            var readRows = false
            for old in olds {
                // An id window per statement, so no statement walks more than `RotationSteps.idWindow`
                // dead entries, however large the store (the job's statement_timeout).
                try RotationSteps.walkWindows(upTo: end, reader: LeasedReader(context: context)) { after, window in
                    let current = checkpoint
                    // The sweep shares the parts' cap: it is the same rotation to the database.
                    let result = try RotationThrottle.batch(context, units: limit, maxRate: arguments.maxRate) {
                        try context.batch { connection in
                            let result = try Rewrap.batch(connection, from: old, to: new, after: after, upTo: window, limit: limit)
                            var next = current
                            next.swept += Int64(result.rewrapped)
                            return (result, JobProgress(done: next.partsDone + next.swept, checkpoint: next))
                        }
                    } moved: { $0.rewrapped }
                    checkpoint.swept += Int64(result.rewrapped)
                    let known = Set(failures.map(\.dekId))
                    failures += result.failures.filter { !known.contains($0.dekId) }
                    if result.lastID != nil { readRows = true }
                    return result.lastID
                }
            }
            held = try left(afterAPassThatRead: readRows)
        }
        // DEKs that do not open fail the rotation for good (an operator must restore them, and
        // the retried job then also sweeps any held row); rows another transaction still holds,
        // and nothing else, end this attempt with an error that says so, and the queue retries
        // the rotation from its sweep.
        if held > 0, failures.isEmpty { throw KeyManagementError.deksHeld(keks: start.oldKeks, count: held, passes: pass) }
        let seconds = Date().timeIntervalSince1970 - checkpoint.startedAt
        let rewrapped = checkpoint.partsDone + checkpoint.swept
        if !failures.isEmpty {
            try context.batch(progressDone: rewrapped) { connection in
                try AuditLog.append(connection, actor: context.workerID, action: .rotationFailed,
                                    target: "kek:\(start.newKek)", details: [
                                        "job_id": .int(context.job.id), "rewrapped": .int(rewrapped),
                                        "failed_deks": .texts(failures.prefix(50).map { String($0.dekId) })])
            }
            let named = failures.prefix(5).map { "DEK \($0.dekId): \($0.reason)" }.joined(separator: "; ")
            let alsoHeld = held > 0 ? " (\(held) more were held by other transactions through every sweep pass)" : ""
            throw PermanentJobError("rotation rewrapped \(rewrapped) DEKs but \(failures.count) could not be opened and were left "
                + "under their old KEK, which stays decrypt_only: \(named)\(alsoHeld). See runbooks/stuck-rotation.md")
        }
        try context.batch(progressDone: rewrapped) { connection in
            try RotationSteps.finish(connection, start: start, rewrapped: rewrapped, seconds: seconds,
                                     actor: context.workerID, jobID: context.job.id)
        }
        return try .completed(RotationResult(newKek: start.newKek, retiredKeks: start.oldKeks, rewrapped: rewrapped,
                                             seconds: seconds))
    }
}

/// A job's read-only steps (a rotation's preparation, a search by id windows), each a read-only
/// transaction of the job, the lease renewed after it.
struct LeasedReader: RotationReader {
    let context: JobContext
    func read<T>(_ step: (PostgresConnection) throws -> T) throws -> T {
        let value = try context.read(step)
        try context.renewLeaseIfDue()
        return value
    }
}
