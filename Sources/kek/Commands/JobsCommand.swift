import Foundation
import JobQueue
import PostgresClient

extension Command {
    static let jobs = Command(
        name: "jobs",
        abstract: "List, inspect, enqueue and control jobs.",
        subcommands: [.jobsList, .jobsShow, .jobsEnqueue, .jobsCancel, .jobsPause, .jobsResume, .jobsRetry, .jobsBench]
    )

    static let jobsList = Command.typed(
        "list",
        abstract: "List jobs, newest first.",
        options: JobsListOptions.self,
        run: { options in
            let queue = JobQueue(connection: try Database.connect())
            let jobs = try queue.list(states: options.states, kind: options.kind, limit: options.limit)
            let progress = try queue.progress(jobs.map(\.id))
            if options.json {
                try Output.jsonLine(jobs.map { JobDocument(job: $0, progress: progress[$0.id]) })
            } else if jobs.isEmpty {
                print("no jobs")
            } else {
                print(JobOutput.table(jobs, progress))
            }
        }
    )

    static let jobsShow = Command.typed(
        "show",
        abstract: "Show one job: state, progress, rate, lease, checkpoint, last error.",
        options: JobIDOptions.self,
        run: { options in
            let id = options.id
            let queue = JobQueue(connection: try Database.connect())
            guard let job = try queue.job(id) else { throw CommandFailure("no job \(id)") }
            let progress = try queue.progress(id)
            if options.json {
                try Output.jsonLine(JobDocument(job: job, progress: progress))
            } else {
                print(JobOutput.details(job, progress))
            }
        }
    )

    static let jobsCancel = control("cancel", "Cancel a job (a running job stops at its next batch boundary).") { try $0.cancel($1) }
    static let jobsPause = control("pause", "Pause a job (a running job stops at its next batch boundary).") { try $0.pause($1) }
    static let jobsResume = control("resume", "Queue a paused job again; it continues from its checkpoint.") { try $0.resume($1) }
    static let jobsRetry = control("retry", "Queue a failed or cancelled job again with attempts reset.") { try $0.retry($1) }

    private static func control(_ name: String, _ abstract: String,
                                _ action: @escaping @Sendable (JobQueue, Int64) throws -> JobQueue.ControlOutcome) -> Command {
        Command.typed(
            name,
            abstract: abstract,
            options: JobIDOptions.self,
            run: { options in
                let id = options.id
                let queue = JobQueue(connection: try Database.connect())
                let outcome: JobQueue.ControlOutcome
                do {
                    outcome = try action(queue, id)
                } catch let error as PostgresError where error.sqlState == .uniqueViolation {
                    throw CommandFailure("job \(id) cannot be queued again: another active job holds its unique key")
                }
                let (changed, state, text): (Bool, String, String)
                switch outcome {
                case .changed(let new): (changed, state, text) = (true, new.rawValue, "job \(id) is now \(new.rawValue)")
                case .requested(let new):
                    (changed, state, text) = (true, "running", "job \(id) is running; it becomes \(new.rawValue) at its next batch boundary")
                case .unchanged(let current):
                    (changed, state, text) = (false, current.rawValue, "job \(id) is \(current.rawValue); '\(name)' does not apply")
                case .notFound: throw CommandFailure("no job \(id)")
                }
                if options.json {
                    try Output.jsonLine(JobControlResult(id: id, changed: changed, state: state))
                } else if changed {
                    print(text)
                }
                if !changed { throw CommandFailure(text) }
            }
        )
    }
}

/// `kek jobs list`'s options.
struct JobsListOptions: CommandOptions {
    var states: [JobState] = []
    var kind: String?
    var limit = 50
    var json = false

    static let fields: [OptionField<Self>] = [
        .value("state", "STATE[,STATE]", "Only these states (queued, running, paused, completed, failed, cancelled).", \.states,
               OptionParser(expectation: "job states separated by commas",
                            parse: { text in
                                let states = text.split(separator: ",").map { JobState(rawValue: String($0)) }
                                return states.contains(nil) ? nil : states.compactMap { $0 }
                            },
                            show: { $0.isEmpty ? nil : $0.map(\.rawValue).joined(separator: ",") })),
        .value("kind", "KIND", "Only this kind.", \.kind, .text),
        .value("limit", "N", "At most N jobs.", \.limit, .int),
        .flag("json", "Print a JSON array.", \.json),
    ]
}

/// The options of the `kek jobs` verbs that take one job id.
struct JobIDOptions: CommandOptions {
    var id: Int64 = 0
    var json = false

    static let fields: [OptionField<Self>] = [
        .flag("json", "Print JSON.", \.json),
        .argument(0, "id", "The job's id.", \.id, .jobID),
    ]
}
