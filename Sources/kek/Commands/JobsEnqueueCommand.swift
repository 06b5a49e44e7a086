import Foundation
import JobQueue
import KeyManagement

extension Command {
    static let jobsEnqueue = Command.typed(
        "enqueue",
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
        options: JobsEnqueueOptions.self,
        run: { options in
            var request: JobRequest
            var condition: (name: String, argument: String)?
            if let file = options.file {
                guard options.kind == nil else { throw UsageError("kek jobs enqueue: give a kind or --file, not both") }
                let schedule = try JobSchedule.load(file: file)
                request = schedule.request
                if case .when(let name, let argument, _) = schedule.trigger, !options.ignoreWhen {
                    condition = (name, argument)
                }
            } else {
                guard let kind = options.kind else { throw UsageError("kek jobs enqueue: missing <kind> (or --file)") }
                guard (try? JSONSerialization.jsonObject(with: Data(options.args.utf8))) is [String: Any] else {
                    throw UsageError("kek jobs enqueue: --args must be a JSON object, got '\(options.args)'")
                }
                request = JobRequest(kind: kind, argumentsJSON: options.args, priority: options.priority,
                                     maxAttempts: options.maxAttempts, uniqueKey: options.uniqueKey)
            }
            if let refusal = RetiredJobKind.refusal(request.kind) { throw CommandFailure(refusal) }
            try JobKinds.validate(request)
            if let date = options.runAt {
                request.runAt = date
            } else if let delay = options.delay {
                request.runAt = Date().addingTimeInterval(delay)
            }
            if let cap = options.maxRunTime { request.maxRunSeconds = max(1, Int(cap.rounded(.up))) }
            let count = options.count
            let connection = try Database.connect()
            if let file = options.file, let condition, try !JobKinds.holds(condition, for: file, on: connection) {
                if options.json { return try Output.jsonLine(JobsEnqueued(enqueued: JobsEnqueuedCount.none, due: false)) }
                return print("not due: \(condition.name) \(condition.argument) does not hold; nothing enqueued")
            }
            let queue = JobQueue(connection: connection)
            if count > 1 {
                guard request.uniqueKey == nil else { throw UsageError("kek jobs enqueue: --count and a unique key exclude each other") }
                let inserted = try queue.enqueueMany(request, count: count)
                if options.json { try Output.jsonLine(JobsEnqueued(enqueued: .count(inserted))) } else {
                    print("enqueued \(inserted) \(request.kind) jobs")
                }
                return
            }
            let job = try queue.enqueue(request)
            if options.json {
                try Output.jsonLine(JobsEnqueued(id: job.id, inserted: job.inserted))
            } else if job.inserted {
                print("enqueued job \(job.id) (\(request.kind))")
            } else {
                print("job \(job.id) already holds unique key '\(request.uniqueKey ?? "")'; nothing added")
            }
        }
    )
}

/// `kek jobs enqueue`'s options.
struct JobsEnqueueOptions: CommandOptions {
    var args = "{}"
    var count = 1
    var priority = 0
    var maxAttempts = 5
    var uniqueKey: String?
    var runAt: Date?
    var delay: TimeInterval?
    var maxRunTime: TimeInterval?
    var file: String?
    var ignoreWhen = false
    var json = false
    var kind: String?

    static let fields: [OptionField<Self>] = [
        .value("args", "JSON", "Arguments (a JSON object); never put secrets in them.", \.args, .text),
        .value("count", "N", "How many identical jobs (no unique key).", \.count,
               OptionParser.int.checked("a whole number of at least 1") { $0 >= 1 }),
        .value("priority", "N", "Lower runs first.", \.priority, .int),
        .value("max-attempts", "N", "Attempts before the job fails.", \.maxAttempts, .int),
        .value("unique-key", "KEY", "Return the active job with this key instead of adding one.", \.uniqueKey, .text),
        .value("run-at", "TIME", "Not before this ISO 8601 time (2026-01-31T02:00:00Z).", \.runAt,
               OptionParser(expectation: "an ISO 8601 time like 2026-01-31T02:00:00Z", parse: { try? Date($0, strategy: .iso8601) },
                            show: { $0.formatted(.iso8601) })),
        .value("delay", "DURATION", "Not before this long from now (30s, 15m, 2h).", \.delay, .duration),
        .value("max-run-time", "DURATION", "Cap on one attempt's run time (checked at batch boundaries).", \.maxRunTime, .duration),
        .value("file", "PATH", "Enqueue the job a schedule file describes, now, if its \"when\" condition holds.", \.file, .text),
        .flag("ignore-when", "With --file: enqueue even when the schedule's \"when\" condition does not hold.", \.ignoreWhen),
        .flag("json", "Print JSON.", \.json),
        .argument(0, "kind", "The job kind (e.g. noop).", \.kind, .text),
    ]
}
