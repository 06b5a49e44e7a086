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
    /// Loops that have opened their connection (and issued their `LISTEN`, unless polling) and
    /// run their first claim.
    private let connectedLoops = Mutex<Int>(0)
    private let poolerNoted = Atomic<Bool>(false)

    public init(configuration: WorkerConfiguration, handlers: JobHandlerRegistry, events: any JobEventSink) {
        self.configuration = configuration
        self.handlers = handlers
        self.events = events
    }

    /// Starts the loops and the maintenance thread, and returns.
    public func start() {
        // The schedule names, so an operator can see that --schedule-dir / KEK_SCHEDULE_DIR took effect.
        let schedules = configuration.schedules.isEmpty ? "none" : configuration.schedules.map(\.name).joined(separator: ",")
        note("worker_started", "concurrency=\(configuration.concurrency) kinds=\(handlers.kinds.joined(separator: ",")) schedules=\(schedules)")
        for index in 0..<max(1, configuration.concurrency) {
            spawn("kek-job-loop-\(index)") { self.loop() }
        }
        spawn("kek-maintenance") { WorkerMaintenance(worker: self).run() }
    }

    /// Asks every thread to stop at its next batch boundary.
    public func requestStop() { stop.request() }

    /// Waits until every thread ended; false when `timeout` passed first.
    public func waitUntilStopped(timeout: Double) -> Bool {
        Self.poll(timeout: timeout, every: 0.02) { running.withLock { $0 } == 0 }
    }

    /// Waits until every job loop has opened its connection, issued its `LISTEN` (unless it
    /// polls: `--no-listen`, a pooler) and run its first claim, so a job enqueued next is
    /// claimed as by a worker that was already running, on its notification; false when
    /// `timeout` passed first (the database not answering, say) or a stop was requested.
    public func waitUntilConnected(timeout: Double) -> Bool {
        let loops = max(1, configuration.concurrency)
        func connected() -> Bool { connectedLoops.withLock { $0 } >= loops }
        return Self.poll(timeout: timeout, every: 0.005) { connected() || stop.isRequested } && connected()
    }

    /// Checks `done` every `interval` until it holds (true) or `timeout` passes (false).
    private static func poll(timeout: Double, every interval: Double, _ done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !done() {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: interval)
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

    /// One job loop. Its connection is kept for the life of the loop: a lost connection is
    /// reopened by the next call (a multi-host URL follows a failover), and an outage is
    /// logged once when it starts and once when it ends, with back-off between attempts.
    private func loop() {
        var runner: JobRunner?
        var outage = ConnectionOutage()
        while !stop.isRequested {
            do {
                let current = try runner ?? makeRunner()
                let first = runner == nil
                runner = current
                let claimed = try current.runNext()
                // Counted once its first claim ran: from here on a job enqueued later is found by a
                // notification (the `LISTEN` came before) or the next claim, never by that first one.
                if first { connectedLoops.withLock { $0 += 1 } }
                if let seconds = outage.recovered() {
                    note("database_back", String(format: "job loop: database answering again after %.1fs", seconds))
                }
                if claimed != nil { continue }
                try waitForWork(current.connection)
            } catch {
                let (delay, started) = outage.failed()
                if !ConnectionOutage.isOutage(error) {
                    note("error", "job loop: \(JobRunner.describe(error)); retrying in \(delay)s")
                } else if started {
                    note("database_lost", "job loop: \(JobRunner.describe(error)); retrying with back-off up to "
                        + "\(outage.maximumDelay)s, logged again when it answers")
                }
                stop.sleep(delay)
            }
        }
    }

    private func makeRunner() throws -> JobRunner {
        let connection = try PostgresConnection(configuration.databaseURL)
        if try listens(on: connection) { try connection.listen(Self.channel) }
        return JobRunner(connection: connection, workerID: configuration.workerID, handlers: handlers,
                         events: events, stop: stop, leaseSeconds: configuration.leaseSeconds,
                         retry: configuration.retry, limits: configuration.limits)
    }

    /// Whether this loop waits for notifications: not with `--no-listen`, and not behind a
    /// connection pooler (the server's process id differs from the one the pooler gave the
    /// client), where a transaction-mode pool would drop them; polling is what is left.
    private func listens(on connection: PostgresConnection) throws -> Bool {
        guard configuration.listen else { return false }
        guard try connection.isBehindPooler() else { return true }
        if !poolerNoted.exchange(true, ordering: .relaxed) {
            note("pooler_detected", "a connection pooler sits between this worker and PostgreSQL: not listening for "
                + "notifications, polling every \(configuration.pollInterval)s (see README, Connection poolers)")
        }
        return false
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
        guard configuration.listen, !poolerNoted.load(ordering: .relaxed) else {
            stop.sleep(max(0, deadline.timeIntervalSinceNow))
            return
        }
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
