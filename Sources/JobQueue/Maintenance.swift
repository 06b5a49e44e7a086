import Foundation
import PostgresClient

/// The worker's housekeeping thread: refreshes its `workers` row, prunes finished jobs
/// after the retention period, and evaluates schedules.
///
/// The steps are independent: each has its own due time, and a step that fails is logged
/// and retried at its own next turn (sooner for a short outage), never delaying the others:
/// a prune refused by a revoked grant must not stop heartbeats or schedules. A lost
/// connection is reopened by the next step; the outage is logged once, and once when it ends.
struct WorkerMaintenance {
    let worker: JobWorker
    var configuration: WorkerConfiguration { worker.configuration }

    /// One housekeeping step and when it is next due.
    private struct Step {
        let name: String
        let interval: Double
        var due = Date.distantPast
        let body: (PostgresConnection) throws -> Void
    }

    func run() {
        var connection: PostgresConnection?
        var outage = ConnectionOutage()
        var steps = makeSteps()
        while !worker.stop.isRequested {
            for index in steps.indices where Date() >= steps[index].due && !worker.stop.isRequested {
                let started = Date()
                do {
                    let db = try connection ?? PostgresConnection(configuration.databaseURL)
                    connection = db
                    try steps[index].body(db)
                    steps[index].due = started.addingTimeInterval(steps[index].interval)
                    if let seconds = outage.recovered() {
                        worker.note("database_back", String(format: "maintenance: database answering again after %.1fs", seconds))
                    }
                } catch {
                    if let db = connection, db.inTransaction, !db.isBroken { _ = try? db.execute("ROLLBACK") }
                    let (delay, started) = outage.failed()
                    if !ConnectionOutage.isOutage(error) {
                        worker.note("error", "maintenance \(steps[index].name): \(JobRunner.describe(error))")
                        steps[index].due = Date().addingTimeInterval(steps[index].interval)
                        _ = outage.recovered()
                    } else {
                        if started { worker.note("database_lost", "maintenance: \(JobRunner.describe(error)); retrying with back-off") }
                        steps[index].due = Date().addingTimeInterval(min(delay, steps[index].interval))
                    }
                }
            }
            worker.stop.sleep(0.25)
        }
        _ = try? connection?.execute("UPDATE workers SET stopped_at = now() WHERE id = $1", [configuration.workerID])
    }

    private func makeSteps() -> [Step] {
        var steps = [Step(name: "heartbeat", interval: configuration.heartbeatInterval, body: heartbeat)]
        let schedules = runnableSchedules()
        if !schedules.isEmpty {
            steps.append(Step(name: "schedules", interval: configuration.scheduleInterval) { try evaluate(schedules, on: $0) })
        }
        if let retention = configuration.retention {
            steps.append(Step(name: "prune", interval: configuration.pruneInterval) { db in
                let pruned = try prune(db, retention: retention)
                if pruned > 0 { worker.note("pruned", "\(pruned) finished jobs older than \(Int(retention))s") }
            })
        }
        steps += configuration.housekeeping.map { Step(name: $0.name, interval: $0.interval, body: $0.body) }
        return steps
    }

    /// Schedules of kinds this worker can run; others are left to workers that know them.
    private func runnableSchedules() -> [JobSchedule] {
        configuration.schedules.filter { schedule in
            if worker.handlers.handler(for: schedule.kind) != nil { return true }
            worker.note("schedule_skipped", "\(schedule.name): no handler for kind '\(schedule.kind)' in this worker")
            return false
        }
    }

    private func heartbeat(_ db: PostgresConnection) throws {
        try db.execute("""
            INSERT INTO workers (id, host, pid, concurrency, kinds, started_at, last_heartbeat_at)
            VALUES ($1, $2, $3::int4, $4::int4, $5, now(), now())
            ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, concurrency = EXCLUDED.concurrency,
                kinds = EXCLUDED.kinds, last_heartbeat_at = now(), stopped_at = NULL
            """, [configuration.workerID, ProcessInfo.processInfo.hostName, Int(getpid()), configuration.concurrency,
                  PostgresArray(worker.handlers.kinds)])
    }

    private func prune(_ db: PostgresConnection, retention: Double) throws -> Int {
        let queue = JobQueue(connection: db)
        var total = 0
        while !worker.stop.isRequested {
            let deleted = try queue.pruneFinished(olderThan: retention)
            total += deleted
            if deleted < 5000 { break }
        }
        try JobScheduler.prune(olderThan: retention, on: db)
        try db.execute("DELETE FROM workers WHERE last_heartbeat_at < now() - make_interval(secs => $1)", [retention])
        return total
    }

    /// Each schedule on its own: one that fails does not keep the others from their turn.
    /// An outage is thrown to `run` (it would fail every schedule alike).
    private func evaluate(_ schedules: [JobSchedule], on db: PostgresConnection) throws {
        for schedule in schedules {
            do {
                if let job = try configuration.scheduler.evaluate(schedule, on: db) {
                    worker.note("scheduled", "\(schedule.name) \(job.inserted ? "enqueued" : "already active")", jobID: job.id)
                }
            } catch {
                if ConnectionOutage.isOutage(error) { throw error }
                if db.inTransaction { _ = try? db.execute("ROLLBACK") }
                worker.note("error", "schedule \(schedule.name): \(JobRunner.describe(error))")
            }
        }
    }
}
