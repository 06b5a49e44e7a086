import Foundation
import PostgresClient

/// How a worker process runs its loops; every field has a production default.
public struct WorkerConfiguration: Sendable {
    public var databaseURL: String
    /// Names this process in leases, logs and `workers` (default `host:pid`).
    public var workerID: String
    /// Job loops, each on its own thread with its own connection.
    public var concurrency: Int = 1
    /// How long a claim stays ours without a checkpoint or renewal; after that any worker
    /// may claim the job again. Liveness only: `max_run_seconds` caps an attempt's run time.
    public var leaseSeconds: Double = 30
    /// An idle loop claims again after this long even without a notification.
    public var pollInterval: Double = 5
    /// Wait for enqueue notifications (`LISTEN kek_jobs`) between polls. Off (`--no-listen`)
    /// behind a transaction-pooling PgBouncer, where notifications never arrive; a worker
    /// that detects a pooler turns it off by itself.
    public var listen = true
    public var retry = RetryPolicy()
    public var limits = BatchLimits()
    /// How often the `workers` row is refreshed.
    public var heartbeatInterval: Double = 10
    /// Finished jobs older than this are deleted (nil: kept forever).
    public var retention: Double? = 14 * 86_400
    public var pruneInterval: Double = 600
    /// Schedules this worker evaluates (any number of workers may evaluate the same ones).
    public var schedules: [JobSchedule] = []
    public var scheduler = JobScheduler()
    public var scheduleInterval: Double = 60
    /// Steps of other layers run by the maintenance thread beside heartbeat, prune and
    /// schedules, each on its own interval and isolated like them (the key domain's fold of
    /// the maintained DEK counts: JobQueue knows no key words).
    public var housekeeping: [HousekeepingStep] = []

    public init(databaseURL: String, workerID: String = WorkerConfiguration.defaultWorkerID()) {
        self.databaseURL = databaseURL
        self.workerID = workerID
    }

    /// `host:pid`, unique among live processes.
    public static func defaultWorkerID() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }
}

/// A housekeeping step another layer gives the worker's maintenance thread: run on the
/// maintenance connection every `interval` seconds; an error is logged and retried at the next
/// turn without delaying the other steps.
public struct HousekeepingStep: Sendable {
    public var name: String
    public var interval: Double
    public var body: @Sendable (PostgresConnection) throws -> Void

    public init(name: String, interval: Double, body: @escaping @Sendable (PostgresConnection) throws -> Void) {
        self.name = name
        self.interval = interval
        self.body = body
    }
}
