import Foundation
import JobQueue
import KeyManagement

/// A job as `kek jobs list --json` and `kek jobs show --json` print it: the row without its own
/// progress columns, plus `progress`, the one done/total/rate every view shows (README "JSON
/// output": one name per concept). Its JSON columns (args, checkpoint, result, attempt errors)
/// are embedded as the JSON they hold, not as strings; a field with no value is `null`, so
/// every document has every key.
struct JobDocument: Encodable {
    var job: Job
    var progress: JobProgressSummary?

    /// `progress`: the numbers `kek status --json` and /status show.
    struct Progress: Encodable {
        var summary: JobProgressSummary

        enum CodingKeys: String, CodingKey { case state, done, total, rowsPerSecond = "rows_per_second", etaSeconds = "eta_seconds" }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(summary.state, forKey: .state)
            try container.encode(summary.done, forKey: .done)
            try container.encode(summary.total, forKey: .total)
            try container.encode(summary.rate, forKey: .rowsPerSecond)
            try container.encode(summary.etaSeconds, forKey: .etaSeconds)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, args, state, priority, attempt, checkpoint, result, progress
        case desiredState = "desired_state", runAt = "run_at", maxAttempts = "max_attempts", maxRunSeconds = "max_run_seconds"
        case uniqueKey = "unique_key", parentId = "parent_id", leaseOwner = "lease_owner", leaseExpiresAt = "lease_expires_at"
        case lastError = "last_error", createdAt = "created_at", updatedAt = "updated_at", startedAt = "started_at"
        case attemptedAt = "attempted_at", checkpointedAt = "checkpointed_at", finishedAt = "finished_at"
        case attemptErrors = "attempt_errors"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        func embed(_ text: String?, _ key: CodingKeys) throws { try container.encode(text.map(JSONValue.init(parsing:)) ?? .null, forKey: key) }
        try container.encode(job.id, forKey: .id)
        try container.encode(job.kind, forKey: .kind)
        try embed(job.argumentsJSON, .args)
        try container.encode(job.state, forKey: .state)
        try container.encode(job.desiredState, forKey: .desiredState)
        try container.encode(job.priority, forKey: .priority)
        try container.encode(job.runAt, forKey: .runAt)
        try container.encode(job.attempt, forKey: .attempt)
        try container.encode(job.maxAttempts, forKey: .maxAttempts)
        try container.encode(job.maxRunSeconds, forKey: .maxRunSeconds)
        try container.encode(job.uniqueKey, forKey: .uniqueKey)
        try container.encode(job.parentID, forKey: .parentId)
        try container.encode(job.leaseOwner, forKey: .leaseOwner)
        try container.encode(job.leaseExpiresAt, forKey: .leaseExpiresAt)
        try embed(job.checkpointJSON, .checkpoint)
        try embed(job.resultJSON, .result)
        try container.encode(job.lastError, forKey: .lastError)
        try container.encode(job.createdAt, forKey: .createdAt)
        try container.encode(job.updatedAt, forKey: .updatedAt)
        try container.encode(job.startedAt, forKey: .startedAt)
        try container.encode(job.attemptedAt, forKey: .attemptedAt)
        try container.encode(job.checkpointedAt, forKey: .checkpointedAt)
        try container.encode(job.finishedAt, forKey: .finishedAt)
        try embed(job.attemptErrorsJSON, .attemptErrors)
        try container.encode(progress.map(Progress.init), forKey: .progress)
    }
}

/// `kek jobs cancel|pause|resume|retry --json`: the job, whether the verb changed it, its state.
struct JobControlResult: Encodable {
    var id: Int64
    var changed: Bool
    var state: String
}

/// `kek jobs enqueue --json`: one job (`id`, `inserted`), or with `--count` how many were added
/// (`enqueued`), or with `--file` a schedule that was not due (`enqueued: false, due: false`).
struct JobsEnqueued: Encodable {
    var id: Int64?
    var inserted: Bool?
    var enqueued: JobsEnqueuedCount?
    var due: Bool?
}

/// `enqueued` is a count after `--count N`, and `false` when a schedule was not due.
enum JobsEnqueuedCount: Encodable {
    case count(Int)
    case none

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .count(let count): try container.encode(count)
        case .none: try container.encode(false)
        }
    }
}
