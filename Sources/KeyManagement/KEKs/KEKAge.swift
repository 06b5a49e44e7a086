import Foundation
import JobQueue
import PostgresClient

/// The cryptoperiod check behind scheduled rotation (NIST SP 800-57 §5.3), and the schedule
/// condition that names it, defined once for the worker (which evaluates it), `kek jobs
/// enqueue --file` (which checks it before enqueuing) and the status report (which predicts
/// when it comes due).
public enum KEKAge {
    /// `"when": {"active_kek_older_than": "90d"}` in a schedule file.
    public static let olderThanCondition = "active_kek_older_than"

    /// True when the active KEK was activated more than `seconds` ago, or there is none.
    public static func activeOlderThan(_ connection: PostgresConnection, seconds: Double) throws -> Bool {
        try connection.query("""
            SELECT coalesce((SELECT activated_at < now() - make_interval(secs => $1) FROM keks WHERE state = 'active'), true)
            """, [seconds])[0].decode(0)
    }

    /// The age limit of a schedule's `when` condition when it is `active_kek_older_than` with a
    /// duration (`90d`); nil for any other condition, or an argument that is not a duration.
    public static func ageLimit(condition: String, argument: String) -> TimeInterval? {
        condition == olderThanCondition ? JobDuration.seconds(argument) : nil
    }

    /// The schedule conditions of the key domain, for `JobScheduler(conditions:)`.
    public static var scheduleConditions: [String: JobScheduleCondition] {
        [olderThanCondition: { connection, _, argument in
            guard let seconds = JobDuration.seconds(argument) else {
                throw JobScheduleError("\(olderThanCondition): '\(argument)' is not a duration like 90d")
            }
            return try activeOlderThan(connection, seconds: seconds)
        }]
    }
}
