import Foundation
import PostgresClient

/// Where a job is in its life. `queued`, `running` and `paused` are active (they hold a
/// unique key); `completed`, `failed` and `cancelled` are finished and eventually pruned.
public enum JobState: String, Sendable, CaseIterable, Codable {
    case queued, running, paused, completed, failed, cancelled

    /// True once the job will never run again unless someone retries it.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// One row of `jobs`, as read from the database. JSON columns stay JSON text: the runner
/// never interprets a handler's arguments, checkpoint or result.
public struct Job: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var argumentsJSON: String
    public var state: JobState
    /// What an operator asked a running job to become (`paused` or `cancelled`).
    public var desiredState: JobState?
    public var priority: Int
    public var runAt: Date
    public var attempt: Int
    public var maxAttempts: Int
    public var maxRunSeconds: Int?
    public var uniqueKey: String?
    public var parentID: Int64?
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var progressDone: Int64
    public var progressTotal: Int64?
    /// Progress units per second, an exponentially weighted average over checkpoints.
    public var rate: Double?
    public var checkpointJSON: String?
    public var resultJSON: String?
    public var lastError: String?
    /// Errors of earlier attempts, oldest first (JSON array of {attempt, at, error}).
    public var attemptErrorsJSON: String
    /// Hand-backs by workers that could run this kind (sql/091); bounded by the kind's gate.
    public var countedHandBacks: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var attemptedAt: Date?
    public var checkpointedAt: Date?
    public var finishedAt: Date?

    /// The select list that `init(row:)` reads, qualified with `table`.
    static func columns(_ table: String = "jobs") -> String {
        ["id", "kind", "args", "state", "desired_state", "priority", "run_at", "attempt", "max_attempts",
         "max_run_seconds", "unique_key", "parent_id", "lease_owner", "lease_expires_at", "progress_done",
         "progress_total", "rate", "checkpoint", "result", "last_error", "created_at", "updated_at",
         "started_at", "attempted_at", "checkpointed_at", "finished_at", "attempt_errors", "counted_hand_backs"]
            .map { "\(table).\($0)" }.joined(separator: ", ")
    }

    init(row: Row) throws {
        id = try row.decode("id")
        kind = try row.decode("kind")
        argumentsJSON = try row.decode("args")
        state = try Self.state(try row.decode("state"))
        desiredState = try (row.decode("desired_state", as: String?.self)).map(Self.state)
        priority = try row.decode("priority")
        runAt = try row.decode("run_at")
        attempt = try row.decode("attempt")
        maxAttempts = try row.decode("max_attempts")
        maxRunSeconds = try row.decode("max_run_seconds")
        uniqueKey = try row.decode("unique_key")
        parentID = try row.decode("parent_id")
        leaseOwner = try row.decode("lease_owner")
        leaseExpiresAt = try row.decode("lease_expires_at")
        progressDone = try row.decode("progress_done")
        progressTotal = try row.decode("progress_total")
        rate = try row.decode("rate")
        checkpointJSON = try row.decode("checkpoint")
        resultJSON = try row.decode("result")
        lastError = try row.decode("last_error")
        attemptErrorsJSON = try row.decode("attempt_errors")
        countedHandBacks = Int(try row.decode("counted_hand_backs", as: Int32.self))
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        startedAt = try row.decode("started_at")
        attemptedAt = try row.decode("attempted_at")
        checkpointedAt = try row.decode("checkpointed_at")
        finishedAt = try row.decode("finished_at")
    }

    private static func state(_ text: String) throws -> JobState {
        guard let state = JobState(rawValue: text) else {
            throw PostgresError(.decoding, message: "unknown job state '\(text)'")
        }
        return state
    }
}
