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

    /// kek's rotation statements, exactly (a `RewrapStream`: read, lock by id, move with unnest sent
    /// while the next batch is prepared, one commit per batch), with each row's own bytes masked as the "new"
    /// key: right length, changed like a real rewrap's (so the server logs and counts a wrap for
    /// each, as it does in a rotation), no crypto. The rows end under `new` with masked bytes bound
    /// to `old`; `restore` repairs them.
    func sameStatements(from old: Int32, to new: Int32, label: String) throws -> Int {
        try drain(RewrapStatements(from: old, to: new, limit: batchSize) { wrapped, _ in Self.masked(wrapped) }, label: label)
    }

    /// Untimed repair after `sameStatements`: the same statements with kek_id left at `new`,
    /// now really rewrapping each row's unmasked bytes from `old` to `new`, so every later
    /// measurement (and the final verification) starts from real keys.
    func restore(from old: KEKCipher, to new: KEKCipher) throws {
        let statements = RewrapStatements(from: new.kekID, to: new.kekID, limit: batchSize) { wrapped, id in
            try KEKCipher.rewrapDEK(Self.masked(wrapped), dekID: id, from: old, to: new)
        }
        _ = try drain(statements, label: "restoring real keys")
    }

    /// Every byte flipped by a constant: costs nothing next to crypto, and undoes itself.
    private static func masked(_ bytes: [UInt8]) -> [UInt8] { bytes.map { $0 ^ 0x5A } }

    /// Runs a `RewrapStream` over every row, one transaction per step, as the rotation's parts do.
    private func drain(_ statements: RewrapStatements, label: String) throws -> Int {
        var stream = RewrapStream(statements, after: 0)
        var total = 0
        while true {
            let step = try connection.transaction { try stream.step(connection) }
            if let failure = step.failures.first {
                throw CommandFailure("\(label): \(step.failures.count) DEKs failed, first \(failure.dekId): \(failure.reason)")
            }
            total += step.rewrapped
            Terminal.progress("\(label): \(Formatting.count(total))")
            if step.finished { break }
        }
        Terminal.endProgress()
        return total
    }

    /// What a rewrite costs when kek_id does not move: lock a batch, write its bytes back.
    func rewriteLoop(label: String) throws -> Int {
        try loop(label) { after in
            try connection.transaction {
                let batch = try connection.query(
                    "SELECT id, wrapped_key FROM data_keys WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED", [after, batchSize])
                let ids: [Int64] = try batch.map { try $0.decode(0) }
                let keys: [[UInt8]] = try batch.map { try $0.decode(1) }
                let rewritten = ids.isEmpty ? 0 : try connection.execute(
                    BatchExplain.rewriteSQL, [PostgresArray(ids), PostgresArray(keys)] + Rewrap.idBounds(ids))
                return BatchStep(written: rewritten, lastID: ids.last)
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
}
