import Foundation
import JobQueue
import KeyManagement

extension Command {
    static let jobsEnqueue = Command(
        name: "enqueue",
        abstract: "Enqueue jobs of a kind, or the job of a schedule file (--file).",
        discussion: """
            Examples:
              kek jobs enqueue noop --count 100 --args '{"steps": 3, "sleep_ms": 100}'
              kek jobs enqueue --file jobs/schedules/rotate-kek.json   (from cron, systemd, Kubernetes)
            With --file, a schedule's "when" condition (e.g. active_kek_older_than) is checked
            first: when it does not hold, nothing is enqueued (exit 0); --ignore-when enqueues anyway.
            With --unique-key (or --file), while a job with that key is queued, running or
            paused, the existing job is returned instead of a second one.
            """,
        options: [
            .value("args", "JSON", "Arguments (a JSON object); never put secrets in them.", default: "{}"),
            .value("count", "N", "How many identical jobs (no unique key).", default: "1"),
            .value("priority", "N", "Lower runs first.", default: "0"),
            .value("max-attempts", "N", "Attempts before the job fails.", default: "5"),
            .value("unique-key", "KEY", "Return the active job with this key instead of adding one."),
            .value("run-at", "TIME", "Not before this ISO 8601 time (2026-01-31T02:00:00Z)."),
            .value("delay", "DURATION", "Not before this long from now (30s, 15m, 2h)."),
            .value("max-run-time", "DURATION", "Cap on one attempt's run time (checked at batch boundaries)."),
            .value("file", "PATH", "Enqueue the job a schedule file describes, now, if its \"when\" condition holds."),
            .flag("ignore-when", "With --file: enqueue even when the schedule's \"when\" condition does not hold."),
            .flag("json", "Print JSON."),
        ],
        arguments: [Argument(name: "kind", help: "The job kind (e.g. noop).", optional: true)],
        run: { arguments in
            var request: JobRequest
            var condition: (name: String, argument: String)?
            if let file = arguments.string("file") {
                guard arguments.argument(0) == nil else { throw UsageError("kek jobs enqueue: give a kind or --file, not both") }
                let schedule = try JobSchedule.load(file: file)
                request = schedule.request
                if case .when(let name, let argument, _) = schedule.trigger, !arguments.flag("ignore-when") {
                    condition = (name, argument)
                }
            } else {
                guard let kind = arguments.argument(0) else { throw UsageError("kek jobs enqueue: missing <kind> (or --file)") }
                let args = arguments.string("args") ?? "{}"
                guard (try? JSONSerialization.jsonObject(with: Data(args.utf8))) is [String: Any] else {
                    throw UsageError("kek jobs enqueue: --args must be a JSON object, got '\(args)'")
                }
                request = JobRequest(kind: kind, argumentsJSON: args, priority: try arguments.int("priority") ?? 0,
                                     maxAttempts: try arguments.int("max-attempts") ?? 5,
                                     uniqueKey: arguments.string("unique-key"))
            }
            if let refusal = RetiredJobKind.refusal(request.kind) { throw CommandFailure(refusal) }
            if let text = arguments.string("run-at") {
                guard let date = try? Date(text, strategy: .iso8601) else {
                    throw UsageError("kek jobs enqueue: --run-at expects an ISO 8601 time like 2026-01-31T02:00:00Z, got '\(text)'")
                }
                request.runAt = date
            } else if let delay = try arguments.duration("delay") {
                request.runAt = Date().addingTimeInterval(delay)
            }
            if let cap = try arguments.duration("max-run-time") { request.maxRunSeconds = max(1, Int(cap.rounded(.up))) }
            let count = try arguments.int("count") ?? 1
            guard count >= 1 else { throw UsageError("kek jobs enqueue: --count must be at least 1") }
            let connection = try Database.connect()
            if let file = arguments.string("file"), let condition, try !JobKinds.holds(condition, for: file, on: connection) {
                if arguments.flag("json") { return try Output.json(JobsEnqueued(enqueued: JobsEnqueuedCount.none, due: false)) }
                return print("not due: \(condition.name) \(condition.argument) does not hold; nothing enqueued")
            }
            let queue = JobQueue(connection: connection)
            if count > 1 {
                guard request.uniqueKey == nil else { throw UsageError("kek jobs enqueue: --count and a unique key exclude each other") }
                let inserted = try queue.enqueueMany(request, count: count)
                if arguments.flag("json") { try Output.json(JobsEnqueued(enqueued: .count(inserted))) } else {
                    print("enqueued \(inserted) \(request.kind) jobs")
                }
                return
            }
            let job = try queue.enqueue(request)
            if arguments.flag("json") {
                try Output.json(JobsEnqueued(id: job.id, inserted: job.inserted))
            } else if job.inserted {
                print("enqueued job \(job.id) (\(request.kind))")
            } else {
                print("job \(job.id) already holds unique key '\(request.uniqueKey ?? "")'; nothing added")
            }
        }
    )
}
