import Foundation

/// What to enqueue: made from a typed `JobArguments` value (`init(_:)`), which names the
/// kind and is written with `JSONCodec`. Arguments are stored as `jsonb` and shown by
/// `kek jobs show`, so they must never carry secret values or key material.
public struct JobRequest: Sendable, Equatable {
    public var kind: String
    public var argumentsJSON: String
    /// Lower runs first; ties go to the earliest `runAt`.
    public var priority: Int
    /// Not claimed before this instant (nil: now, by the database clock).
    public var runAt: Date?
    public var maxAttempts: Int
    /// While a job with this key is queued, running or paused, enqueueing again returns it.
    public var uniqueKey: String?
    public var parentID: Int64?
    /// A cap on one attempt's run time, enforced at batch boundaries; separate from the lease.
    public var maxRunSeconds: Int?

    /// A request for the kind `arguments` names, its arguments written by `JSONCodec`.
    public init<A: JobArguments>(_ arguments: A, priority: Int = 0, runAt: Date? = nil, maxAttempts: Int = 5,
                                 uniqueKey: String? = nil, parentID: Int64? = nil, maxRunSeconds: Int? = nil) throws {
        self.init(kind: A.kind, argumentsJSON: try JSONCodec.encode(arguments), priority: priority, runAt: runAt,
                  maxAttempts: maxAttempts, uniqueKey: uniqueKey, parentID: parentID, maxRunSeconds: maxRunSeconds)
    }

    /// A request from raw JSON text: for input that arrives as text (`kek jobs enqueue --file`,
    /// a schedule's configuration) and kinds without arguments. Check raw text against the
    /// kind's type first with `JobHandlerRegistry.validate(kind:argumentsJSON:)`.
    public init(kind: String, argumentsJSON: String = "{}", priority: Int = 0, runAt: Date? = nil,
                maxAttempts: Int = 5, uniqueKey: String? = nil, parentID: Int64? = nil, maxRunSeconds: Int? = nil) {
        self.kind = kind
        self.argumentsJSON = argumentsJSON
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
        self.parentID = parentID
        self.maxRunSeconds = maxRunSeconds
    }
}

/// The result of an enqueue: the job's id, and whether it is new or an existing job that
/// already held the unique key.
public struct EnqueuedJob: Sendable, Equatable {
    public var id: Int64
    public var inserted: Bool
}
