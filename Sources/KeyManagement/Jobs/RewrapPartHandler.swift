import Foundation
import JobQueue
import KeyWrapping
import PostgresClient

/// Runs one `rewrap_part` job: rewraps the DEKs of one id range in batches, each batch
/// committed with the checkpoint after it, until the range is empty.
///
/// Any worker may hold any part; a part resumed after a crash starts after its last
/// committed id, so a batch is never lost and never applied twice.
struct RewrapPartHandler: JobHandler {
    static let kind = "rewrap_part"

    func run(_ context: JobContext) throws -> JobOutcome {
        let arguments = try context.decodeArguments(RewrapPartArguments.self, decoder: JobJSON.decoder)
        var checkpoint = try context.decodeCheckpoint(RewrapPartCheckpoint.self, decoder: JobJSON.decoder)
            ?? RewrapPartCheckpoint(afterId: arguments.part.afterId, rewrapped: 0, failures: [])
        let keks = KEKCiphers(connection: context.connection, rootKeys: try RootKeys.fromEnvironment())
        let old = try keks.cipher(arguments.part.fromKek)
        let new = try keks.cipher(arguments.part.toKek)
        let limit = JobArgumentBounds.throttledBatchSize(arguments.batchSize, maxRate: arguments.maxRate)
        while true {
            let (next, finished) = try RotationThrottle.batch(context, units: limit, maxRate: arguments.maxRate) {
                try context.batch { connection in
                    let result = try Rewrap.batch(connection, from: old, to: new, after: checkpoint.afterId,
                                                  upTo: arguments.part.upToId, limit: limit)
                    var next = checkpoint
                    next.afterId = result.lastID ?? checkpoint.afterId
                    next.rewrapped += Int64(result.rewrapped)
                    next.failures += result.failures
                    return ((next, result.lastID == nil),
                            JobProgress(done: next.rewrapped, checkpointJSON: try JobJSON.encode(next)))
                }
            } moved: { Int($0.0.rewrapped - checkpoint.rewrapped) }
            checkpoint = next
            if finished { break }
        }
        return .completed(result: try JobJSON.encode(RewrapPartResult(rewrapped: checkpoint.rewrapped, failures: checkpoint.failures)))
    }
}
