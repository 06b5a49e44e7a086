import Foundation

/// The arguments of one job kind: a Codable value that names its kind, so a job is enqueued
/// from a typed value (`JobRequest(_:)`) and its handler receives the same type, decoded once
/// by JobQueue with `JSONCodec`. They are stored as `jsonb` and shown by `kek jobs show`, so
/// they must never carry secret values or key material.
public protocol JobArguments: Codable, Sendable {
    static var kind: String { get }
}

/// The checkpoint of a handler that keeps none.
public struct NoCheckpoint: Codable, Sendable, Equatable {
    public init() {}
}

/// Runs jobs of one kind, typed by its arguments and checkpoint. The runner decodes both
/// once with `JSONCodec` before calling `run` (a decode failure of either fails the job
/// permanently: retrying cannot change stored bytes) and calls it on a worker thread with a
/// `JobContext` that owns that thread's connection; it may block (libpq is blocking), and it
/// must be safe to run on several threads at once, each with its own context.
///
/// A handler is resumable: it starts from `checkpoint` (nil on a job's first run) and writes
/// only in `context.batch` calls, each committing its work together with the checkpoint after it.
public protocol JobHandler: Sendable {
    associatedtype Arguments: JobArguments
    associatedtype Checkpoint: Codable & Sendable = NoCheckpoint
    func run(_ context: JobContext, _ arguments: Arguments, _ checkpoint: Checkpoint?) throws -> JobOutcome
}

/// How a handler's run ended (errors are the other way: thrown, they are retried).
public enum JobOutcome: Sendable, Equatable {
    /// Done; `result` is a JSON summary kept with the job (never secret values).
    case completed(result: String?)
    /// Not done, not failed: queue again after `seconds` without burning an attempt
    /// (a parent waiting for its parts).
    case snooze(seconds: Double)

    /// Done, with `result` encoded by `JSONCodec`.
    public static func completed(_ result: some Encodable) throws -> JobOutcome {
        .completed(result: try JSONCodec.encode(result))
    }
}

/// Thrown by a handler to fail the job at once, without retries (bad arguments, a state
/// no retry can fix). The message is shown to operators: name what to fix, never a secret.
public struct PermanentJobError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The job's lease is no longer this worker's (it expired and another worker claimed the
/// job, or an operator intervened): the batch in hand was rolled back and this worker
/// abandons the job without writing anything more for it.
public struct JobLeaseLost: Error, CustomStringConvertible, Sendable {
    public var jobID: Int64
    public var description: String { "lease on job \(jobID) lost; another worker owns it now" }
}

/// Thrown by `JobContext.batch` after a batch committed, when the job should stop there:
/// an operator paused or cancelled it, or the worker is shutting down. The runner moves the
/// job to the requested state (or back to queued) from that clean checkpoint.
public struct JobStopRequested: Error, CustomStringConvertible, Sendable {
    public enum Reason: String, Sendable {
        case pause, cancel, shutdown
    }
    public var reason: Reason
    public var description: String { "stop requested (\(reason.rawValue))" }
}

/// Thrown when an attempt ran longer than the job's `max_run_seconds`; retried like any error.
public struct JobRunTimeExceeded: Error, CustomStringConvertible, Sendable {
    public var seconds: Int
    public var description: String { "attempt exceeded its maximum run time of \(seconds)s" }
}
