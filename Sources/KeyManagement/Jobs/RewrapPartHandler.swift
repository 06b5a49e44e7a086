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
        let throttle = Throttle(maxRate: arguments.maxRate, parentID: context.job.parentID, startCount: checkpoint.rewrapped)
        while true {
            let (next, finished) = try context.batch { connection in
                let result = try Rewrap.batch(connection, from: old, to: new, after: checkpoint.afterId,
                                              upTo: arguments.part.upToId, limit: arguments.batchSize)
                var next = checkpoint
                next.afterId = result.lastID ?? checkpoint.afterId
                next.rewrapped += Int64(result.rewrapped)
                next.failures += result.failures
                return ((next, result.lastID == nil),
                        JobProgress(done: next.rewrapped, checkpointJSON: try JobJSON.encode(next)))
            }
            checkpoint = next
            if finished { break }
            try throttle.pause(context, done: checkpoint.rewrapped)
        }
        return .completed(result: try JobJSON.encode(RewrapPartResult(rewrapped: checkpoint.rewrapped, failures: checkpoint.failures)))
    }
}

/// Keeps a rotation under `--max-rate`: each running part takes an equal share of the rate.
struct Throttle {
    let maxRate: Double?
    let parentID: Int64?
    let startCount: Int64
    let started = Date()

    func pause(_ context: JobContext, done: Int64) throws {
        guard let maxRate, maxRate > 0 else { return }
        var running = 1
        if let parentID {
            running = max(1, try context.connection.query(
                "SELECT count(*) FROM jobs WHERE parent_id = $1 AND state = 'running'", [parentID])[0].decode(0))
        }
        let expected = Double(done - startCount) / (maxRate / Double(running))
        let elapsed = Date().timeIntervalSince(started)
        if expected > elapsed { try context.sleep(expected - elapsed) }
    }
}
