import Foundation
import PostgresClient

/// A job to enqueue on a schedule, read from a `jobs/*.json` file:
///
///     {"kind": "noop", "args": {"steps": 3}, "every": "1h"}
///     {"kind": "rotate_kek", "args": {}, "when": {"older_than": "90d"}, "check_every": "1h"}
///
/// `every` enqueues once per interval. `when` names a condition that the program registers
/// (the job runner knows no conditions itself); while it holds, the job is enqueued at most
/// once per `check_every` (default 1h). Optional: `priority`, `max_attempts`.
public struct JobSchedule: Sendable, Equatable {
    public enum Trigger: Sendable, Equatable {
        case every(TimeInterval)
        case when(condition: String, argument: String, checkEvery: TimeInterval)
    }

    /// The file name without `.json`; names the schedule in `job_schedule_runs`.
    public var name: String
    public var kind: String
    public var argumentsJSON: String
    public var trigger: Trigger
    public var priority: Int
    public var maxAttempts: Int

    /// Jobs from one schedule never overlap: while one is active, enqueueing returns it.
    /// A file may name its own key (`"unique_key"`) to share it with jobs enqueued by hand,
    /// so that, say, a scheduled rotation and `kek rotate` are still one rotation at a time.
    public var uniqueKey: String { explicitUniqueKey ?? "schedule:\(name)" }
    public var explicitUniqueKey: String?

    public var request: JobRequest {
        JobRequest(kind: kind, argumentsJSON: argumentsJSON, priority: priority, maxAttempts: maxAttempts,
                   uniqueKey: uniqueKey)
    }

    /// Reads one schedule file; errors name the file and the field.
    public static func load(file path: String) throws -> JobSchedule {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        func bad(_ why: String) -> JobScheduleError { JobScheduleError("\(path): \(why)") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw bad("cannot read: \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        let known: Set = ["kind", "args", "every", "when", "check_every", "priority", "max_attempts", "description", "unique_key"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) { throw bad("unknown field '\(unknown)'") }
        guard let kind = object["kind"] as? String, !kind.isEmpty else { throw bad("\"kind\" (a string) is required") }
        let args = object["args"] ?? [String: Any]()
        guard args is [String: Any], let argsData = try? JSONSerialization.data(withJSONObject: args, options: [.sortedKeys]) else {
            throw bad("\"args\" must be a JSON object")
        }
        func duration(_ key: String) throws -> TimeInterval? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String, let seconds = JobDuration.seconds(text), seconds > 0 else {
                throw bad("\"\(key)\" must be a duration like \"90d\", \"12h\", \"15m\" or \"30s\"")
            }
            return seconds
        }
        let trigger: Trigger
        switch (try duration("every"), object["when"]) {
        case (let every?, nil):
            trigger = .every(every)
        case (nil, let when?):
            guard let condition = when as? [String: Any], condition.count == 1, let (name, value) = condition.first else {
                throw bad("\"when\" must be an object with one condition, like {\"older_than\": \"90d\"}")
            }
            trigger = .when(condition: name, argument: value as? String ?? "\(value)", checkEvery: try duration("check_every") ?? 3600)
        default:
            throw bad("give exactly one of \"every\" (a duration) or \"when\" (a condition)")
        }
        let priority = object["priority"] as? Int ?? 0
        let maxAttempts = object["max_attempts"] as? Int ?? 5
        guard maxAttempts >= 1 else { throw bad("\"max_attempts\" must be at least 1") }
        return JobSchedule(name: name, kind: kind, argumentsJSON: String(decoding: argsData, as: UTF8.self),
                           trigger: trigger, priority: priority, maxAttempts: maxAttempts,
                           explicitUniqueKey: object["unique_key"] as? String)
    }

    /// Every `*.json` file of `directory`, sorted by name.
    public static func load(directory: String) throws -> [JobSchedule] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { try load(file: "\(directory)/\($0)") }
    }
}

/// A schedule file that cannot be used; the message names the file and what is wrong.
public struct JobScheduleError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A condition a `when` schedule names: given a connection, the schedule and the
/// condition's argument (`"90d"`), says whether the job is due. Registered by the program.
public typealias JobScheduleCondition = @Sendable (PostgresConnection, JobSchedule, String) throws -> Bool

/// Decides whether schedules are due and enqueues each occurrence exactly once, however many
/// workers evaluate the same schedule at the same moment.
///
/// Each occurrence has a name (the interval bucket of the database clock, so workers with
/// skewed clocks agree); inserting it into `job_schedule_runs` (primary key) is the claim on
/// it, and the enqueue commits in that same transaction.
public struct JobScheduler: Sendable {
    public var conditions: [String: JobScheduleCondition]

    public init(conditions: [String: JobScheduleCondition] = [:]) {
        self.conditions = conditions
    }

    /// Evaluates `schedule`; returns the job enqueued for a new occurrence, or nil when the
    /// schedule is not due or another worker took this occurrence.
    public func evaluate(_ schedule: JobSchedule, on connection: PostgresConnection) throws -> EnqueuedJob? {
        let bucketSeconds: TimeInterval
        switch schedule.trigger {
        case .every(let interval):
            bucketSeconds = interval
            let due: Bool = try connection.query("""
                SELECT coalesce((SELECT max(enqueued_at) FROM job_schedule_runs WHERE schedule = $1)
                                <= now() - make_interval(secs => $2), true)
                """, [schedule.name, interval])[0].decode(0)
            guard due else { return nil }
        case .when(let name, let argument, let checkEvery):
            bucketSeconds = checkEvery
            guard let condition = conditions[name] else {
                throw JobScheduleError("schedule \(schedule.name): no condition named '\(name)' is registered "
                    + "(known: \(conditions.keys.sorted().joined(separator: ", ")))")
            }
            guard try condition(connection, schedule, argument) else { return nil }
        }
        return try connection.transaction {
            let occurrence: String = try connection.query(
                "SELECT 'b' || floor(extract(epoch FROM now()) / $1)::int8::text", [bucketSeconds])[0].decode(0)
            let claimed = try connection.execute("""
                INSERT INTO job_schedule_runs (schedule, occurrence) VALUES ($1, $2) ON CONFLICT DO NOTHING
                """, [schedule.name, occurrence])
            guard claimed == 1 else { return nil }
            let job = try JobQueue(connection: connection).enqueue(schedule.request)
            try connection.execute("UPDATE job_schedule_runs SET job_id = $3 WHERE schedule = $1 AND occurrence = $2",
                                   [schedule.name, occurrence, job.id])
            return job
        }
    }

    /// Forgets occurrences older than `retention`, keeping each schedule's latest (which
    /// `every` needs to know when it is next due).
    @discardableResult
    public static func prune(olderThan retention: TimeInterval, on connection: PostgresConnection) throws -> Int {
        try connection.execute("""
            DELETE FROM job_schedule_runs r
             WHERE enqueued_at < now() - make_interval(secs => $1)
               AND EXISTS (SELECT 1 FROM job_schedule_runs n WHERE n.schedule = r.schedule AND n.enqueued_at > r.enqueued_at)
            """, [retention])
    }
}

/// Durations as written in schedule files and flags: `30s`, `15m`, `12h`, `90d`.
///
/// The one parser of durations (flags, schedule files): infinity, NaN, negative amounts and
/// anything over `maximumSeconds` are refused here, so no caller can trap converting one to
/// an integer or a clock deadline.
public enum JobDuration {
    /// Ten years: longer than any lease, retention or delay that means something.
    public static let maximumSeconds: TimeInterval = 10 * 365 * 86400

    public static func seconds(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let scale = units[unit], let amount = Double(text.dropLast()),
              amount.isFinite, amount >= 0, amount * scale <= maximumSeconds else {
            return nil
        }
        return amount * scale
    }
}
