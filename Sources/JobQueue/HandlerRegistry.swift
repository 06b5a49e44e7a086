import Foundation

/// Handlers by kind. The CLI builds one from its list of kinds; a worker claims only the
/// kinds it has handlers for, so jobs of unknown kinds wait for a worker that knows them.
public struct JobHandlerRegistry: Sendable {
    private var handlers: [String: any ErasedJobHandler] = [:]
    /// Kinds claimed only while a check passes (`KindGate.swift`).
    var gates: [JobKindGate] = []

    public init() {}

    /// Registers `handler` for the kind its arguments name.
    public mutating func register<H: JobHandler>(_ handler: H) {
        handlers[H.Arguments.kind] = TypedJobHandler(handler: handler)
    }

    /// Registers a closure as the handler of `kind`, for kinds that read no arguments and keep
    /// no checkpoint (test doubles, the queue benchmark's empty jobs).
    public mutating func register(_ kind: String, _ body: @escaping @Sendable (JobContext) throws -> JobOutcome) {
        handlers[kind] = ClosureJobHandler(body: body)
    }

    func handler(for kind: String) -> (any ErasedJobHandler)? { handlers[kind] }

    /// The kinds this registry can run, sorted.
    public var kinds: [String] { handlers.keys.sorted() }

    /// Throws `PermanentJobError` unless `argumentsJSON` decodes as the arguments of `kind`
    /// (raw input such as `kek jobs enqueue --file`, checked before it reaches the queue).
    /// Kinds this registry does not know are not checked: another worker may run them.
    public func validate(kind: String, argumentsJSON: String) throws {
        try handlers[kind]?.validate(kind: kind, argumentsJSON: argumentsJSON)
    }
}

/// A handler as the runner calls it: the job's stored bytes in, the outcome out.
protocol ErasedJobHandler: Sendable {
    func run(_ context: JobContext) throws -> JobOutcome
    func validate(kind: String, argumentsJSON: String) throws
}

/// Decodes a job's arguments and checkpoint once, with `JSONCodec`, and calls the typed handler.
struct TypedJobHandler<H: JobHandler>: ErasedJobHandler {
    let handler: H

    func run(_ context: JobContext) throws -> JobOutcome {
        let job = context.job
        let arguments = try PayloadDecoding.decode(H.Arguments.self, from: job.argumentsJSON, what: "arguments",
                                                   jobID: job.id, kind: job.kind)
        let checkpoint = try job.checkpointJSON.map {
            try PayloadDecoding.decode(H.Checkpoint.self, from: $0, what: "checkpoint", jobID: job.id, kind: job.kind)
        }
        context.checkpointType = H.Checkpoint.self
        return try handler.run(context, arguments, checkpoint)
    }

    func validate(kind: String, argumentsJSON: String) throws {
        _ = try PayloadDecoding.decode(H.Arguments.self, from: argumentsJSON, what: "arguments", jobID: nil, kind: kind)
    }
}

struct ClosureJobHandler: ErasedJobHandler {
    let body: @Sendable (JobContext) throws -> JobOutcome
    func run(_ context: JobContext) throws -> JobOutcome { try body(context) }
    func validate(kind: String, argumentsJSON: String) throws {}
}
