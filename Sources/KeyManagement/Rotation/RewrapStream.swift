import PostgresClient

/// A rotation pass over one id range, one batch transaction per `step`, with the worker's work
/// overlapped with the server's: each step sends the read of the next batch, encodes the move of
/// the batch rewrapped in the step before while the server reads, locks that batch's rows while
/// it turns the read rows into values, sends the move and, while the server writes, decodes and
/// rewraps the batch just read.
///
/// Done one after the other, a batch's crypto and encoding (about 5 µs a row) left the server
/// idle and the server's move (about 10 µs a row) left the worker idle. Reading the next batch
/// before the last one is written is safe because the lock skips rows another transaction holds
/// and the move applies only where a row still holds the bytes read and the old KEK (a writer's
/// change in between is never overwritten; the row is left for the rotation's final sweep).
///
/// What a step reports is what its transaction commits: the rows moved and the failures of
/// the batch written, and the highest id written, the checkpoint to resume after. A batch
/// read but not yet written is read again on resume, never lost.
public struct RewrapStream {
    public let statements: RewrapStatements
    /// Read and rewrapped, to be written by the next step.
    private var prepared: PreparedBatch?
    private var readAfter: Int64

    public init(_ statements: RewrapStatements, after: Int64) {
        self.statements = statements
        readAfter = after
    }

    /// What one step's transaction did.
    public struct Step: Sendable {
        public var rewrapped: Int
        public var failures: [RewrapFailure]
        /// The highest id this step wrote (failures included), to resume after; nil when it wrote none.
        public var writtenThrough: Int64?
        /// True when the range has no row left after this step.
        public var finished: Bool
    }

    /// Runs one step inside the caller's transaction (the batch that records its checkpoint).
    /// Call until `finished`; after a step throws, the transaction rolls back and the stream
    /// must not be used again (resume from the last committed checkpoint).
    public mutating func step(_ connection: PostgresConnection) throws -> Step {
        let written = prepared
        // The overlaps: the worker encodes the last batch's move while the server reads the next
        // batch, turns the read rows into values while the server locks the last batch, and
        // decodes and rewraps the next batch while the server moves the last.
        let read = try statements.sendRead(connection, after: readAfter)
        var moveParameters = try written.flatMap { try statements.moveParameters($0) }
        try read.finish()
        let lock = try written.flatMap { try statements.sendLock($0, on: connection) }
        let rows = try read.rows()
        var move: PendingStatement?
        if let written, let lock {
            let held = written.keeping(try statements.lockedIDs(try lock.rows()))
            if held.ids.count < written.ids.count { moveParameters = try statements.moveParameters(held) }
            move = try moveParameters.map { try connection.send(Rewrap.moveBatchSQL, $0) }
        }
        let next = try statements.prepare(rows)
        let rewrapped = try move?.affectedRows() ?? 0
        prepared = next
        readAfter = next.lastID ?? readAfter
        return Step(rewrapped: rewrapped, failures: written?.failures ?? [], writtenThrough: written?.lastID,
                    finished: next.lastID == nil)
    }
}
