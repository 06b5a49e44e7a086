import Foundation
import JobQueue
import PostgresClient

extension Command {
    static let jobs = Command(
        name: "jobs",
        abstract: "List, inspect, enqueue and control jobs.",
        subcommands: [.jobsList, .jobsShow, .jobsEnqueue, .jobsCancel, .jobsPause, .jobsResume, .jobsRetry, .jobsBench]
    )

    static let jobsList = Command(
        name: "list",
        abstract: "List jobs, newest first.",
        options: [
            .value("state", "STATE[,STATE]", "Only these states (queued, running, paused, completed, failed, cancelled)."),
            .value("kind", "KIND", "Only this kind."),
            .value("limit", "N", "At most N jobs.", default: "50"),
            .flag("json", "Print a JSON array."),
        ],
        run: { arguments in
            var states: [JobState] = []
            for name in (arguments.string("state") ?? "").split(separator: ",") {
                guard let state = JobState(rawValue: String(name)) else {
                    throw UsageError("kek jobs list: unknown state '\(name)'")
                }
                states.append(state)
            }
            let queue = JobQueue(connection: try Database.connect())
            let jobs = try queue.list(states: states, kind: arguments.string("kind"), limit: try arguments.int("limit") ?? 50)
            let progress = try queue.progress(jobs.map(\.id))
            if arguments.flag("json") {
                try Output.json(jobs.map { JobDocument(job: $0, progress: progress[$0.id]) })
            } else if jobs.isEmpty {
                print("no jobs")
            } else {
                print(JobOutput.table(jobs, progress))
            }
        }
    )

    static let jobsShow = Command(
        name: "show",
        abstract: "Show one job: state, progress, rate, lease, checkpoint, last error.",
        options: [.flag("json", "Print JSON.")],
        arguments: [Argument(name: "id", help: "The job's id.")],
        run: { arguments in
            let id = try jobID(arguments)
            let queue = JobQueue(connection: try Database.connect())
            guard let job = try queue.job(id) else { throw CommandFailure("no job \(id)") }
            let progress = try queue.progress(id)
            if arguments.flag("json") {
                try Output.json(JobDocument(job: job, progress: progress))
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
        Command(
            name: name,
            abstract: abstract,
            options: [.flag("json", "Print JSON.")],
            arguments: [Argument(name: "id", help: "The job's id.")],
            run: { arguments in
                let id = try jobID(arguments)
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
                if arguments.flag("json") {
                    try Output.json(JobControlResult(id: id, changed: changed, state: state))
                } else if changed {
                    print(text)
                }
                if !changed { throw CommandFailure(text) }
            }
        )
    }

    static func jobID(_ arguments: ParsedArguments) throws -> Int64 {
        guard let text = arguments.argument(0), let id = Int64(text), id > 0 else {
            throw UsageError("\(arguments.commandPath): <id> must be a positive job id, got '\(arguments.argument(0) ?? "")'")
        }
        return id
    }
}
