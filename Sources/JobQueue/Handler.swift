import Foundation

/// Runs jobs of one kind. The runner calls it on a worker thread with a `JobContext` that
/// owns that thread's connection; it may block (libpq is blocking), and it must be safe to
/// run on several threads at once, each with its own context.
///
/// A handler is resumable: it starts from `context.job.checkpointJSON` and does its work in
/// `context.batch` calls, each committing a batch together with the checkpoint after it.
public protocol JobHandler: Sendable {
    func run(_ context: JobContext) throws -> JobOutcome
}

/// How a handler's run ended (errors are the other way: thrown, they are retried).
public enum JobOutcome: Sendable, Equatable {
    /// Done; `result` is a JSON summary kept with the job (never secret values).
    case completed(result: String?)
    /// Not done, not failed: queue again after `seconds` without burning an attempt
    /// (a parent waiting for its parts).
    case snooze(seconds: Double)
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

/// Handlers by kind. The CLI builds one from its list of kinds; a worker claims only the
/// kinds it has handlers for, so jobs of unknown kinds wait for a worker that knows them.
public struct JobHandlerRegistry: Sendable {
    private var handlers: [String: any JobHandler] = [:]
    /// Kinds claimed only while a check passes (`KindGate.swift`).
    var gates: [JobKindGate] = []

    public init() {}

    public mutating func register(_ kind: String, _ handler: any JobHandler) {
        handlers[kind] = handler
    }

    /// Registers a closure as the handler of `kind`.
    public mutating func register(_ kind: String, _ body: @escaping @Sendable (JobContext) throws -> JobOutcome) {
        handlers[kind] = ClosureJobHandler(body: body)
    }

    public func handler(for kind: String) -> (any JobHandler)? { handlers[kind] }

    /// The kinds this registry can run, sorted.
    public var kinds: [String] { handlers.keys.sorted() }
}

struct ClosureJobHandler: JobHandler {
    let body: @Sendable (JobContext) throws -> JobOutcome
    func run(_ context: JobContext) throws -> JobOutcome { try body(context) }
}
