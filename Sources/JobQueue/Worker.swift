import Foundation
import PostgresClient
import Synchronization

/// A worker process's job loops plus its maintenance thread (heartbeat, pruning, schedules).
///
/// Each loop runs on its own `Thread` with its own connection, because libpq blocks: the
/// loops never touch Swift's cooperative pool. An idle loop sleeps in `LISTEN kek_jobs`
/// and claims again when an enqueue notifies, or after `pollInterval` at the latest.
/// `requestStop()` makes every loop finish the batch in hand, release its job at that
/// checkpoint (back to queued, no attempt burned) and end.
public final class JobWorker: Sendable {
    public let configuration: WorkerConfiguration
    let handlers: JobHandlerRegistry
    let events: any JobEventSink
    public let stop = StopSignal()
    private let running = Mutex<Int>(0)

    public init(configuration: WorkerConfiguration, handlers: JobHandlerRegistry, events: any JobEventSink) {
        self.configuration = configuration
        self.handlers = handlers
        self.events = events
    }

    /// Starts the loops and the maintenance thread, and returns.
    public func start() {
        note("worker_started", "concurrency=\(configuration.concurrency) kinds=\(handlers.kinds.joined(separator: ","))")
        for index in 0..<max(1, configuration.concurrency) {
            spawn("kek-job-loop-\(index)") { self.loop() }
        }
        spawn("kek-maintenance") { WorkerMaintenance(worker: self).run() }
    }

    /// Asks every thread to stop at its next batch boundary.
    public func requestStop() { stop.request() }

    /// Waits until every thread ended; false when `timeout` passed first.
    public func waitUntilStopped(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while running.withLock({ $0 }) > 0 {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        running.withLock { $0 += 1 }
        let thread = Thread {
            body()
            self.running.withLock { $0 -= 1 }
        }
        thread.name = name
        thread.start()
    }

    private func loop() {
        var runner: JobRunner?
        var backoff = 0.5
        while !stop.isRequested {
            do {
                if runner == nil {
                    let connection = try PostgresConnection(configuration.databaseURL)
                    try connection.listen(Self.channel)
                    runner = JobRunner(connection: connection, workerID: configuration.workerID, handlers: handlers,
                                       events: events, stop: stop, leaseSeconds: configuration.leaseSeconds,
                                       retry: configuration.retry, limits: configuration.limits)
                }
                guard let runner else { continue }
                if try runner.runNext() != nil {
                    backoff = 0.5
                    continue
                }
                try waitForWork(runner.connection)
                backoff = 0.5
            } catch {
                note("error", "job loop: \(JobRunner.describe(error)); retrying in \(backoff)s")
                stop.sleep(backoff)
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// Sleeps until a notification, the next queued job's due time (a snoozed parent, a
    /// retry's backoff), the poll interval, or a stop, in short slices so that a stop is
    /// noticed within a quarter second.
    private func waitForWork(_ connection: PostgresConnection) throws {
        let nextDue: Double? = try connection.query(
            "SELECT extract(epoch FROM min(run_at) - now())::float8 FROM jobs WHERE state = 'queued'")[0].decode(0)
        // A job already due that this loop could not claim (another kind, locked) must not make it spin.
        let untilDue = nextDue.flatMap { $0 > 0 ? $0 : nil } ?? configuration.pollInterval
        let deadline = Date().addingTimeInterval(min(configuration.pollInterval, untilDue))
        while !stop.isRequested {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            if try connection.waitForNotification(timeout: .milliseconds(Int(min(left, 0.25) * 1000) + 1)) != nil {
                while try connection.waitForNotification(timeout: .zero) != nil {}
                return
            }
        }
    }

    func note(_ event: String, _ message: String? = nil, jobID: Int64? = nil) {
        events.record(JobEvent(event: event, workerID: configuration.workerID, jobID: jobID, message: message))
    }

    /// The channel enqueues notify (see `sql/002_jobs.sql`).
    public static let channel = "kek_jobs"
}
