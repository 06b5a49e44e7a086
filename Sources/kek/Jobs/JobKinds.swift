import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// The job kinds this `kek` binary can run, and the conditions its schedules may name.
/// Adding a kind is one line here.
enum JobKinds {
    /// `actor` names the worker in the audit rows its key jobs write.
    static func handlers(actor: String) -> JobHandlerRegistry {
        var registry = JobHandlerRegistry()
        registry.register(NoopJobHandler())
        KeyJobKinds.register(into: &registry, actor: actor)
        return registry
    }

    /// Refuses raw arguments (`kek jobs enqueue --args` or `--file`) that the kind's handler
    /// could not decode, before they reach the queue, with the message the job would fail with.
    /// `source` names where the text came from (a schedule file).
    static func validate(_ request: JobRequest, source: String? = nil) throws {
        do {
            try handlers(actor: "kek").validate(kind: request.kind, argumentsJSON: request.argumentsJSON)
        } catch let error as PermanentJobError {
            throw CommandFailure((source.map { "\($0): " } ?? "") + error.description)
        }
    }

    /// Conditions for `"when"` schedules (the key domain's: `active_kek_older_than`).
    static var conditions: [String: JobScheduleCondition] { KEKAge.scheduleConditions }

    /// Whether a schedule file's `"when"` condition holds now (for `kek jobs enqueue --file`
    /// run by cron or a timer, so the file means the same there as in the worker).
    static func holds(_ condition: (name: String, argument: String), for file: String,
                      on connection: PostgresConnection) throws -> Bool {
        guard let check = conditions[condition.name] else {
            throw CommandFailure("\(file): unknown \"when\" condition '\(condition.name)'")
        }
        return try check(connection, try JobSchedule.load(file: file), condition.argument)
    }
}
