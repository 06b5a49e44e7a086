import Foundation
import JobQueue
import KeyWrapping
import PostgresClient

/// Runs one `rewrap_part` job: rewraps the DEKs of one id range in batches, each batch
/// committed with the checkpoint after it, until the range is empty. A `RewrapStream`, so the
/// worker rewraps the next batch while the server writes the last.
///
/// Any worker may hold any part; a part resumed after a crash starts after its last
/// committed id, so a batch is never lost and never applied twice.
struct RewrapPartHandler: JobHandler {
    func run(_ context: JobContext, _ arguments: RewrapPartArguments, _ checkpoint: RewrapPartCheckpoint?) throws -> JobOutcome {
        var checkpoint = checkpoint ?? RewrapPartCheckpoint(afterID: arguments.part.afterId, rewrapped: 0, failures: [])
        let rootKeys = try RootKeys.fromEnvironment()
        let (old, new) = try context.read { connection in
            let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
            return (try keks.cipher(arguments.part.fromKek), try keks.cipher(arguments.part.toKek))
        }
        let limit = JobArgumentBounds.throttledBatchSize(arguments.batchSize, maxRate: arguments.maxRate)
        var stream = RewrapStream(RewrapStatements(from: old, to: new, upTo: arguments.part.upToId, limit: limit),
                                  after: checkpoint.afterID)
        while true {
            let (next, finished) = try RotationThrottle.batch(context, units: limit, maxRate: arguments.maxRate) {
                try context.batch { connection in
                    let step = try stream.step(connection)
                    var next = checkpoint
                    next.afterID = step.writtenThrough ?? checkpoint.afterID
                    next.rewrapped += Int64(step.rewrapped)
                    next.failures += step.failures
                    return ((next, step.finished), JobProgress(done: next.rewrapped, checkpoint: next))
                }
            } moved: { Int($0.0.rewrapped - checkpoint.rewrapped) }
            checkpoint = next
            if finished { break }
        }
        return try .completed(RewrapPartResult(rewrapped: checkpoint.rewrapped, failures: checkpoint.failures))
    }
}
