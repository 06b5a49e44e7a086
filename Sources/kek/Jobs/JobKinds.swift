import Foundation
import JobQueue
import KeyManagement

/// The job kinds this `kek` binary can run, and the conditions its schedules may name.
/// Adding a kind is one line here.
enum JobKinds {
    /// `actor` names the worker in the audit rows its key jobs write.
    static func handlers(actor: String) -> JobHandlerRegistry {
        var registry = JobHandlerRegistry()
        registry.register("noop", NoopJobHandler())
        KeyJobKinds.register(into: &registry, actor: actor)
        return registry
    }

    /// Conditions for `"when"` schedules.
    static var conditions: [String: JobScheduleCondition] {
        ["active_kek_older_than": { connection, _, argument in
            guard let seconds = JobDuration.seconds(argument) else {
                throw JobScheduleError("active_kek_older_than: '\(argument)' is not a duration like 90d")
            }
            return try KEKAge.activeOlderThan(connection, seconds: seconds)
        }]
    }
}
