import Foundation
import KeyManagement
import KeyWrapping
import PostgresClient

/// The database's own ceilings that a rotation is held against, run on the same rows:
/// kek's batch statements without crypto, a batched rewrite that leaves kek_id alone, and
/// one UPDATE of every row.
struct StatementBaselines {
    let connection: PostgresConnection
    let batchSize: Int

    /// kek's rotation statements, exactly (`Rewrap.statements`: lock, move with unnest, wrap
    /// counter, one commit per batch), with each row's own bytes as the "new" key: right length,
    /// no crypto. The rows end under `new` with bytes bound to `old`; `restore` repairs them.
    func sameStatements(from old: Int32, to new: Int32, label: String) throws -> Int {
        try loop(label) { after in
            try connection.transaction {
                BatchStep(try Rewrap.statements(connection, from: old, to: new, after: after, limit: batchSize) { wrapped, _ in wrapped })
            }
        }
    }

    /// Untimed repair after `sameStatements`: the same statements with kek_id left at `new`,
    /// now really rewrapping each row from `old` to `new`, so every later measurement (and the
    /// final verification) starts from real keys.
    func restore(from old: KEKCipher, to new: KEKCipher) throws {
        _ = try loop("restoring real keys") { after in
            try connection.transaction {
                BatchStep(try Rewrap.statements(connection, from: new.kekID, to: new.kekID, after: after, limit: batchSize) { wrapped, id in
                    try KEKCipher.rewrapDEK(wrapped, dekID: id, from: old, to: new)
                })
            }
        }
    }

    /// What a rewrite costs when kek_id does not move: lock a batch, write its bytes back.
    func rewriteLoop(label: String) throws -> Int {
        try loop(label) { after in
            try connection.transaction {
                let batch = try connection.query(
                    "SELECT id, wrapped_key FROM data_keys WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED", [after, batchSize])
                let ids: [Int64] = try batch.map { try $0.decode(0) }
                let keys: [[UInt8]] = try batch.map { try $0.decode(1) }
                let rewritten = ids.isEmpty ? 0 : try connection.execute(BatchExplain.rewriteSQL, [PostgresArray(ids), PostgresArray(keys)])
                return BatchStep(written: rewritten, lastID: ids.last, failures: [])
            }
        }
    }

    /// The database's ceiling with no round trips at all.
    func singleUpdate() throws -> Int {
        Terminal.note("one UPDATE of every row...")
        return try connection.execute("UPDATE data_keys SET wrapped_key = wrapped_key")
    }

    /// Runs `batch` from id 0 until a batch finds no row; returns the rows written.
    private func loop(_ label: String, _ batch: (Int64) throws -> BatchStep) throws -> Int {
        var after: Int64 = 0
        var total = 0
        while true {
            let result = try batch(after)
            guard let last = result.lastID else { break }
            guard result.failures.isEmpty else {
                throw CommandFailure("\(label): \(result.failures.count) DEKs failed, first \(result.failures[0].dekId): \(result.failures[0].reason)")
            }
            after = last
            total += result.written
            Terminal.progress("\(label): \(Formatting.count(total))")
        }
        Terminal.endProgress()
        return total
    }
}

/// What one baseline batch did.
private struct BatchStep {
    var written: Int
    var lastID: Int64?
    var failures: [RewrapFailure]

    init(written: Int, lastID: Int64?, failures: [RewrapFailure]) {
        self.written = written
        self.lastID = lastID
        self.failures = failures
    }

    init(_ result: RewrapBatchResult) {
        self.init(written: result.rewrapped, lastID: result.lastID, failures: result.failures)
    }
}
