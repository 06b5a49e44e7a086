import JobQueue

/// The job kinds this `kek` binary can run, and the conditions its schedules may name.
/// Adding a kind is one line here: later code registers rotation, re-encryption, env import
/// and verification the same way.
enum JobKinds {
    static var handlers: JobHandlerRegistry {
        var registry = JobHandlerRegistry()
        registry.register("noop", NoopJobHandler())
        return registry
    }

    /// Conditions for `"when"` schedules (e.g. `older_than` for rotation, registered later).
    static var conditions: [String: JobScheduleCondition] {
        [:]
    }
}
