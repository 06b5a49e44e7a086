import Foundation
import PostgresClient

/// The worker's housekeeping thread: refreshes its `workers` row, prunes finished jobs
/// after the retention period, and evaluates schedules. Failures are logged and retried at
/// the next tick: housekeeping never stops the job loops.
struct WorkerMaintenance {
    let worker: JobWorker
    var configuration: WorkerConfiguration { worker.configuration }

    func run() {
        var connection: PostgresConnection?
        var nextHeartbeat = Date.distantPast
        var nextPrune = Date.distantPast
        var nextSchedule = Date.distantPast
        let schedules = runnableSchedules()
        while !worker.stop.isRequested {
            let now = Date()
            do {
                let db = try connection ?? PostgresConnection(configuration.databaseURL)
                connection = db
                if now >= nextHeartbeat {
                    try heartbeat(db)
                    nextHeartbeat = now.addingTimeInterval(configuration.heartbeatInterval)
                }
                if now >= nextPrune, let retention = configuration.retention {
                    let pruned = try prune(db, retention: retention)
                    if pruned > 0 { worker.note("pruned", "\(pruned) finished jobs older than \(Int(retention))s") }
                    nextPrune = now.addingTimeInterval(configuration.pruneInterval)
                }
                if now >= nextSchedule, !schedules.isEmpty {
                    evaluate(schedules, on: db)
                    nextSchedule = now.addingTimeInterval(configuration.scheduleInterval)
                }
            } catch {
                worker.note("error", "maintenance: \(JobRunner.describe(error))")
                nextHeartbeat = now.addingTimeInterval(min(configuration.heartbeatInterval, 5))
            }
            worker.stop.sleep(0.5)
        }
        _ = try? connection?.execute("UPDATE workers SET stopped_at = now() WHERE id = $1", [configuration.workerID])
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

    private func evaluate(_ schedules: [JobSchedule], on db: PostgresConnection) {
        for schedule in schedules {
            do {
                if let job = try configuration.scheduler.evaluate(schedule, on: db) {
                    worker.note("scheduled", "\(schedule.name) \(job.inserted ? "enqueued" : "already active")", jobID: job.id)
                }
            } catch {
                if db.inTransaction { _ = try? db.execute("ROLLBACK") }
                worker.note("error", "schedule \(schedule.name): \(JobRunner.describe(error))")
            }
        }
    }
}
