import Foundation
import JobQueue
import KeyManagement

/// The document of `GET /status`, `GET /api/v1/kek/status` and `kek status --json`.
///
/// One type for the HTTP endpoint and the CLI so the two can never disagree. Only ids,
/// states, dates, counts and rates: nothing here is key material or a secret value (job
/// arguments and checkpoints are deliberately left out). JSON is `JSONCodec`'s:
/// snake_case keys spelled out in each type's `CodingKeys` (the bytes are fixed by
/// `StatusJSONBytesTests`), dates RFC 3339 in UTC with Z, and absent values are `null`, never missing.
public struct StatusReport: Codable, Sendable {
    /// When the database was read; a served report can be up to one refresh interval old.
    public var generatedAt: Date
    /// The migration version the database is at.
    public var schemaVersion: Int
    /// The version this program ships (`null` when the process does not know its migrations).
    @Nullable public var expectedSchemaVersion: Int?
    /// GCM seals allowed under one KEK before it must be rotated (`kek_settings.wrap_limit`, one value for every process).
    public var wrapLimit: Int64
    /// Every KEK, newest first.
    public var keks: [KEKStatus]
    /// Top-level jobs: every active one, then the most recent finished ones. A rotation's
    /// parts are summed into it rather than listed.
    public var jobs: [JobStatus]
    public var queue: QueueStatus
    /// Workers that have reported, most recent heartbeat first.
    public var workers: [WorkerStatus]
    public var rotation: RotationStatus

    public init(generatedAt: Date, schemaVersion: Int, expectedSchemaVersion: Int?, wrapLimit: Int64, keks: [KEKStatus],
                jobs: [JobStatus], queue: QueueStatus, workers: [WorkerStatus], rotation: RotationStatus) {
        self.generatedAt = generatedAt
        self.schemaVersion = schemaVersion
        self.expectedSchemaVersion = expectedSchemaVersion
        self.wrapLimit = wrapLimit
        self.keks = keks
        self.jobs = jobs
        self.queue = queue
        self.workers = workers
        self.rotation = rotation
    }

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", schemaVersion = "schema_version", expectedSchemaVersion = "expected_schema_version"
        case wrapLimit = "wrap_limit", keks, jobs, queue, workers, rotation
    }
}

/// One KEK of the inventory: lifecycle dates, how many DEKs it wraps and how close it is
/// to the GCM seal limit (NIST SP 800-38D 8.3).
public struct KEKStatus: Codable, Sendable {
    public var id: Int32
    public var state: KEKState
    /// Which root key wraps it (an id, not a key).
    public var rootKeyId: String
    public var createdAt: Date
    @Nullable public var activatedAt: Date?
    @Nullable public var retiredAt: Date?
    @Nullable public var destroyAfter: Date?
    @Nullable public var destroyedAt: Date?
    /// DEKs wrapped under this KEK at `dekCountAsOf`.
    public var dekCount: Int64
    /// When `dekCount` was true (the reading transaction's start). A served report is up to
    /// one refresh interval older than the request.
    public var dekCountAsOf: Date
    /// How `dekCount` was obtained: `maintained` (the database's trigger-kept counts, exact as
    /// of `dekCountAsOf`, no scan over the DEKs), `exact` (a count over them) or `estimate`.
    public var dekCountSource: DEKCountSource
    /// GCM seals made under this KEK so far, counted against `wrapLimit`.
    public var wrapCount: Int64
    public var wrapLimit: Int64
    /// Seals left before the limit (negative when over it).
    public var wrapHeadroom: Int64
    /// Whether its root key id has a recorded identity (`root_keys`): some kek process has
    /// shown that a keyring holding that id opens KEKs. False for a KEK in use means nobody
    /// has proven it can be opened (runbooks/unopenable-kek.md).
    public var rootKeyRecorded: Bool

    /// Active or decrypt_only: applications or rotations still need to open it.
    public var inUse: Bool { state == .active || state == .decryptOnly }
    /// In use under a root key id that no kek process has proven it can open.
    public var unopenable: Bool { inUse && !rootKeyRecorded }

    enum CodingKeys: String, CodingKey {
        case id, state, rootKeyId = "root_key_id", createdAt = "created_at", activatedAt = "activated_at"
        case retiredAt = "retired_at", destroyAfter = "destroy_after", destroyedAt = "destroyed_at", dekCount = "dek_count"
        case dekCountAsOf = "dek_count_as_of", dekCountSource = "dek_count_source"
        case wrapCount = "wrap_count", wrapLimit = "wrap_limit", wrapHeadroom = "wrap_headroom"
        case rootKeyRecorded = "root_key_recorded"
    }
}

/// One job with its progress. For a job with parts (a rotation) `done` and the rate are the
/// parts' progress summed, and `parts` says where they are.
public struct JobStatus: Codable, Sendable {
    public var id: Int64
    public var kind: String
    /// The job's state; a parent waiting for parts that are running or queued is `running`.
    public var state: JobState
    /// `paused` or `cancelled` when an operator asked a running job to stop at its next batch.
    @Nullable public var desiredState: JobState?
    public var attempt: Int
    public var maxAttempts: Int
    public var done: Int64
    @Nullable public var total: Int64?
    /// `done / total`, in [0, 1]; null without a total.
    @Nullable public var progressRatio: Double?
    /// Rows per second (`JobQueue.progress`, the one definition): over the last 10 s while
    /// active, 0 while paused; for a finished job, its rows over its run time.
    @Nullable public var rowsPerSecond: Double?
    /// Seconds left at `rowsPerSecond`; null when finished, without a total, or not moving.
    @Nullable public var etaSeconds: Double?
    @Nullable public var lastError: String?
    @Nullable public var leaseOwner: String?
    @Nullable public var leaseExpiresAt: Date?
    public var createdAt: Date
    @Nullable public var startedAt: Date?
    @Nullable public var finishedAt: Date?
    /// The job's child jobs (a rotation's rewrap parts); null when it has none.
    @Nullable public var parts: PartsStatus?

    enum CodingKeys: String, CodingKey {
        case id, kind, state, desiredState = "desired_state", attempt, maxAttempts = "max_attempts", done, total
        case progressRatio = "progress_ratio", rowsPerSecond = "rows_per_second", etaSeconds = "eta_seconds"
        case lastError = "last_error", leaseOwner = "lease_owner", leaseExpiresAt = "lease_expires_at"
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at", parts
    }
}

/// How many of a job's parts are in each state, and their progress summed (read by `JobQueue`).
public typealias PartsStatus = JobPartCounts

/// Queue depth for alerting.
public struct QueueStatus: Codable, Sendable {
    /// Jobs per kind and state, parts included. Finished jobs count until they are pruned
    /// (the worker's `--retention`), so the `failed` cells are failures within that period.
    /// (An array rather than an object keyed by kind, which older readers expect.)
    public var counts: [JobCount]
    /// Age of the oldest job that could run now but is not claimed; null when none waits.
    @Nullable public var oldestQueuedAgeSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case counts, oldestQueuedAgeSeconds = "oldest_queued_age_seconds"
    }
}

/// One (kind, state) cell of the queue.
public struct JobCount: Codable, Sendable, Equatable {
    public var kind: String
    public var state: JobState
    public var count: Int
}

/// A worker process as its heartbeat row shows it (read by `JobQueue`).
public typealias WorkerStatus = WorkerHeartbeat

/// When the last rotation finished and when the next is due.
public struct RotationStatus: Codable, Sendable {
    @Nullable public var activeKekId: Int32?
    /// Seconds since the active KEK was activated (its age against the cryptoperiod).
    @Nullable public var activeKekAgeSeconds: Double?
    /// The latest of the audit log's `rotation.finished` and the completed rotation jobs.
    @Nullable public var lastFinishedAt: Date?
    @Nullable public var lastJobId: Int64?
    @Nullable public var lastRowsPerSecond: Double?
    /// DEKs rewrapped by every rotation on record (audit log), plus the running one's progress.
    public var rowsRewrappedTotal: Int64
    /// When the schedules this process loaded make the next rotation due; null when unknown
    /// (no rotation schedule loaded, or a condition this report cannot predict).
    @Nullable public var nextDueAt: Date?
    /// The schedule that gives `nextDueAt`.
    @Nullable public var nextSchedule: String?
    /// How `nextDueAt` was worked out, or why it is unknown.
    public var nextBasis: String

    enum CodingKeys: String, CodingKey {
        case activeKekId = "active_kek_id", activeKekAgeSeconds = "active_kek_age_seconds", lastFinishedAt = "last_finished_at"
        case lastJobId = "last_job_id", lastRowsPerSecond = "last_rows_per_second", rowsRewrappedTotal = "rows_rewrapped_total"
        case nextDueAt = "next_due_at", nextSchedule = "next_schedule", nextBasis = "next_basis"
    }
}
