import Foundation
import JobQueue
import PostgresClient

/// Follows a job (and its parts) until it ends, with a progress line: done/total, rows/s, ETA.
enum JobWaiter {
    struct Snapshot {
        var state: String
        var done: Int64
        var total: Int64?
        var lastError: String?
    }

    /// Reads the job's state and its progress, counting its parts' progress when higher.
    static func snapshot(_ connection: PostgresConnection, jobID: Int64) throws -> Snapshot? {
        guard let row = try connection.query("""
            SELECT j.state, greatest(j.progress_done, coalesce((SELECT sum(progress_done) FROM jobs c WHERE c.parent_id = j.id), 0))::int8,
                   j.progress_total, j.last_error
            FROM jobs j WHERE j.id = $1
            """, [jobID]).first else { return nil }
        return Snapshot(state: try row.decode(0), done: try row.decode(1), total: try row.decode(2), lastError: try row.decode(3))
    }

    /// Blocks until the job is completed (returns), or failed or cancelled (throws), or
    /// `timeout` seconds have passed (throws; the job itself goes on).
    static func wait(_ connection: PostgresConnection, jobID: Int64, label: String, interval: Double = 1,
                     expectWorkers: Bool = true, timeout: Double? = nil) throws {
        var rate = RateMeter()
        var warnedNoWorker = false
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            guard let snapshot = try snapshot(connection, jobID: jobID) else {
                throw CommandFailure("job \(jobID) no longer exists")
            }
            rate.add(snapshot.done)
            Terminal.progress(line(label, snapshot, rate: rate.perSecond))
            switch snapshot.state {
            case "completed":
                Terminal.endProgress()
                return
            case "failed", "cancelled":
                Terminal.endProgress()
                throw CommandFailure("job \(jobID) \(snapshot.state): \(snapshot.lastError ?? "no error recorded")")
            default:
                break
            }
            if expectWorkers, !warnedNoWorker, try !workerSeen(connection) {
                Terminal.note("\nno worker has reported in the last 30s: start one with 'kek worker' (the job waits for it)")
                warnedNoWorker = true
            }
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 {
                    Terminal.endProgress()
                    throw CommandFailure("gave up waiting after \(Formatting.duration(timeout ?? 0)): job \(jobID) is \(snapshot.state) "
                        + "and goes on; follow it with 'kek jobs show \(jobID)'")
                }
                Thread.sleep(forTimeInterval: min(interval, left))
                continue
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    static func line(_ label: String, _ snapshot: Snapshot, rate: Double) -> String {
        let total = snapshot.total.map { Formatting.count($0) } ?? "?"
        // A job waiting for its parts is queued between checks; to a reader it is running.
        let state = snapshot.state == "queued" && snapshot.done > 0 ? "running" : snapshot.state
        var text = "\(label): \(state) \(Formatting.count(snapshot.done))/\(total)"
        text += ", \(Formatting.count(Int(rate))) rows/s"
        if let total = snapshot.total, rate > 0, total > snapshot.done {
            text += ", ETA \(Formatting.duration(Double(total - snapshot.done) / rate))"
        }
        return text
    }

    static func workerSeen(_ connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT 1 FROM workers WHERE last_heartbeat_at > now() - interval '30 seconds')")[0].decode(0)
    }
}

/// Rows per second over the last few samples (about the last 10 seconds).
struct RateMeter {
    private var samples: [(at: Date, done: Int64)] = []

    mutating func add(_ done: Int64) {
        samples.append((Date(), done))
        if samples.count > 10 { samples.removeFirst() }
    }

    var perSecond: Double {
        guard let first = samples.first, let last = samples.last, last.at > first.at else { return 0 }
        return Double(last.done - first.done) / last.at.timeIntervalSince(first.at)
    }
}
