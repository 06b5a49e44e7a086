import Foundation
import PostgresClient

/// What a handler gets for one claim of one job: the job as claimed, the worker thread's
/// connection, and the fenced way to commit work (`batch`).
///
/// Not `Sendable`: it owns the worker loop's connection and lives on that loop's thread.
public final class JobContext {
    /// The job as claimed (attempt already counted); progress and checkpoint follow `batch`.
    public private(set) var job: Job
    /// The worker loop's connection. Not public: a handler reads through `read` and writes
    /// through `batch`, whose checkpoint UPDATE is the lease fence.
    let connection: PostgresConnection
    public let lease: JobLease
    public let workerID: String
    let stop: StopSignal
    let limits: BatchLimits
    let claimedAt = Date()
    /// When the lease was last extended (claim, checkpoint or renewal).
    private var renewedAt = Date()
    /// When a checkpoint of this claim last added a progress sample (nil: none yet).
    private var sampledAt: Date?
    /// The least time between two progress samples of one claim. The rate is read over the
    /// last 10 s (`JobProgressSummary.window`), so a sample a second is plenty; one per batch
    /// (a rotation part's every ~25 ms) cost a statement and 0.12–0.16 µs of server time per
    /// moved row. (A job that is claimed anew for each short look, like a rotation's parent
    /// every 0.1 s, still samples once per claim. sql/032's comments predate this spacing.)
    static let sampleSpacing: TimeInterval = 1
    private(set) var desiredState: JobState?
    /// The handler's `Checkpoint` type (set by the typed handler before it runs), so a batch
    /// cannot record a checkpoint its own handler could not decode on resume.
    var checkpointType: (any Encodable.Type)?

    init(claimed: ClaimedJob, connection: PostgresConnection, workerID: String, stop: StopSignal, limits: BatchLimits) {
        job = claimed.job
        lease = claimed.lease
        self.connection = connection
        self.workerID = workerID
        self.stop = stop
        self.limits = limits
        desiredState = claimed.job.desiredState
    }

    /// Why the job should stop at this batch boundary, if it should: an operator paused or
    /// cancelled it (seen at the last checkpoint or renewal), or the worker is shutting down.
    public var stopReason: JobStopRequested.Reason? {
        switch desiredState {
        case .paused?: return .pause
        case .cancelled?: return .cancel
        default: return stop.isRequested ? .shutdown : nil
        }
    }

    public var stopRequested: Bool { stopReason != nil }

    /// Runs `body` in a `READ ONLY` transaction with the batch's transaction-local timeouts:
    /// the only handle a handler gets besides `batch`, so PostgreSQL itself refuses a write
    /// (SQLSTATE 25006) made outside the lease fence. Helpers that hold a connection
    /// (`KEKCiphers`, a verifier) are made inside `body` from the connection it is given.
    @discardableResult
    public func read<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try connection.transaction(.readOnlySnapshot, settings: limits.transactionSettings) { try body(connection) }
    }

    /// The parts of this job (`enqueueChild`), read now.
    public func parts() throws -> [Job] {
        try read { try JobQueue(connection: $0).parts(of: job.id) }
    }

    /// Runs `work` and records the checkpoint after it in one short transaction.
    ///
    /// BEGIN; transaction-local lock, statement and idle timeouts; `work`; the fenced checkpoint
    /// UPDATE (which also renews the lease and updates the rate) and, at the claim's first
    /// checkpoint and then at most once a second, a progress sample; COMMIT. When the lease is
    /// no longer ours the UPDATE matches nothing: everything `work` did is rolled back and
    /// `JobLeaseLost` is thrown. After the commit, when an operator asked the job to pause or
    /// cancel, or the worker is shutting down, `JobStopRequested` is thrown so the handler
    /// stops at this clean checkpoint. A stop requested before the batch starts means it
    /// does not start.
    ///
    /// - Parameters:
    ///   - progressDone: units done after this batch (absolute, not a delta).
    ///   - progressTotal: the planned total, when known (nil keeps the stored one).
    ///   - checkpoint: what the handler resumes from, its `Checkpoint` type (nil keeps the stored one).
    @discardableResult
    public func batch<T>(progressDone: Int64, progressTotal: Int64? = nil, checkpoint: (any Encodable & Sendable)? = nil,
                         _ work: (PostgresConnection) throws -> T) throws -> T {
        try batch { connection in
            (try work(connection), JobProgress(done: progressDone, total: progressTotal, checkpoint: checkpoint))
        }
    }

    /// `batch` for work whose progress and checkpoint are only known once it has run:
    /// `work` returns its value and the progress to record with it, in the same transaction.
    @discardableResult
    public func batch<T>(_ work: (PostgresConnection) throws -> (T, JobProgress)) throws -> T {
        if let reason = stopReason { throw JobStopRequested(reason: reason) }
        if let cap = job.maxRunSeconds, Date().timeIntervalSince(claimedAt) > Double(cap) {
            throw JobRunTimeExceeded(seconds: cap)
        }
        let sample = sampledAt.map { Date().timeIntervalSince($0) >= Self.sampleSpacing } ?? true
        let (value, progress, checkpointJSON, desired) = try connection.transaction(settings: limits.transactionSettings) {
            let (value, progress) = try work(connection)
            let checkpointJSON = try progress.checkpoint.map(encodeCheckpoint)
            let desired = try lease.checkpoint(on: connection, progressDone: progress.done, progressTotal: progress.total,
                                               checkpointJSON: checkpointJSON, sample: sample)
            return (value, progress, checkpointJSON, desired)
        }
        renewedAt = Date()
        if sample { sampledAt = renewedAt }
        job.progressDone = progress.done
        if let total = progress.total { job.progressTotal = total }
        if let checkpointJSON { job.checkpointJSON = checkpointJSON }
        desiredState = desired
        if let reason = stopReason { throw JobStopRequested(reason: reason) }
        return value
    }

    /// A checkpoint as stored: the handler's `Checkpoint` value written by `JSONCodec`. Another
    /// type, or text (it would be stored as a JSON string), is refused: the handler could not
    /// decode it when the job resumes.
    private func encodeCheckpoint(_ checkpoint: any Encodable & Sendable) throws -> String {
        let given = type(of: checkpoint)
        if let expected = checkpointType, ObjectIdentifier(given) != ObjectIdentifier(expected) {
            throw PostgresError(.usage, message: "job \(job.id) (\(job.kind)): checkpoint is a \(given), its handler resumes from \(expected)")
        }
        if checkpoint is String {
            throw PostgresError(.usage, message: "a checkpoint is the handler's Checkpoint value, not JSON text")
        }
        return try JSONCodec.encode(checkpoint)
    }

    /// Extends the lease without a checkpoint, for a handler between batches that are far
    /// apart. Throws `JobLeaseLost` when the job is no longer ours.
    public func renewLease() throws {
        desiredState = try lease.renew(on: connection)
        renewedAt = Date()
    }

    /// Waits `seconds` between batches (a throttle, rows another transaction holds), renewing
    /// the lease every second or third of its length, whichever is shorter, so a long wait
    /// never loses the job. Throws `JobStopRequested` as soon as a renewal sees that an
    /// operator paused or cancelled the job, or the worker is stopping.
    public func wait(_ seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let reason = stopReason { throw JobStopRequested(reason: reason) }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return }
            stop.sleep(min(left, 1, max(0.05, lease.seconds / 3)))
            try renewLease()
        }
    }

    /// Keeps this job and every part of its family (its parent and siblings, on any worker)
    /// under one cap of `ratePerSecond` units: reserves `units` for the batch about to run and
    /// waits (renewing the lease) until their slot begins. A negative `units` gives back what
    /// the last reservation did not use. Call outside `batch`. The cap is a token bucket with
    /// a burst of one reservation, not an average: idle time earns no credit, so over any
    /// window the family does at most `ratePerSecond * window` plus one batch.
    public func throttle(units: Int, ratePerSecond: Double) throws {
        guard units != 0 else { return }
        let seconds: Double = try connection.query("SELECT kek_throttle_reserve($1, $2, $3)",
                                                   [job.parentID ?? job.id, Double(units), ratePerSecond])[0].decode(0)
        if units > 0, seconds > 0 { try wait(seconds) }
    }

    /// Renews the lease when a third of it has passed since the last extension: cheap to call
    /// often from a handler's own long loop.
    public func renewLeaseIfDue() throws {
        if Date().timeIntervalSince(renewedAt) >= renewalInterval { try renewLease() }
    }

    private var renewalInterval: Double { max(0.2, lease.seconds / 3) }

    /// Enqueues a job inside `batch`, where it commits (or rolls back) with that batch; called
    /// anywhere else it is refused (it would be a write outside the lease fence).
    @discardableResult
    public func enqueue(_ request: JobRequest) throws -> EnqueuedJob {
        guard connection.inTransaction else {
            throw PostgresError(.usage, message: "job \(job.id) (\(job.kind)): enqueue inside context.batch, the lease fence")
        }
        return try JobQueue(connection: connection).enqueue(request)
    }

    /// Enqueues a part of this job (its `parent_id` is this job); inside `batch` it commits
    /// with that batch, so a parent's plan and its children appear together or not at all.
    @discardableResult
    public func enqueueChild(_ request: JobRequest) throws -> EnqueuedJob {
        var child = request
        child.parentID = job.id
        return try enqueue(child)
    }
}

/// The progress a batch records with its work: units done (absolute), the planned total
/// (nil keeps the stored one) and the checkpoint to resume from, the handler's `Checkpoint`
/// value, written with `JSONCodec` (nil keeps the stored one).
public struct JobProgress: Sendable {
    public var done: Int64
    public var total: Int64?
    public var checkpoint: (any Encodable & Sendable)?

    public init(done: Int64, total: Int64? = nil, checkpoint: (any Encodable & Sendable)? = nil) {
        self.done = done
        self.total = total
        self.checkpoint = checkpoint
    }
}
