import Foundation
import JobQueue
import PostgresClient

/// Follows a job (and its parts) until it ends, with a progress line: done/total, rows/s, ETA.
enum JobWaiter {
    /// Blocks until the job is completed (returns), or failed or cancelled (throws). The line
    /// shows `JobQueue.progress`, the same numbers as `kek status` and /status.
    static func wait(_ connection: PostgresConnection, jobID: Int64, label: String, interval: Double = 1,
                     expectWorkers: Bool = true) throws {
        let queue = JobQueue(connection: connection)
        var warnedNoWorker = false
        while true {
            guard let progress = try queue.progress(jobID) else {
                throw CommandFailure("job \(jobID) no longer exists")
            }
            Terminal.progress(line(label, progress))
            switch progress.state {
            case .completed:
                Terminal.endProgress()
                return
            case .failed, .cancelled:
                Terminal.endProgress()
                let error = try queue.job(jobID)?.lastError
                throw CommandFailure("job \(jobID) \(progress.state.rawValue): \(error ?? "no error recorded")")
            default:
                break
            }
            if expectWorkers, !warnedNoWorker, try !workerSeen(connection) {
                Terminal.note("\nno worker has reported in the last 30s: start one with 'kek worker' (the job waits for it)")
                warnedNoWorker = true
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    static func line(_ label: String, _ progress: JobProgressSummary) -> String {
        "\(label): \(progress.state.rawValue) " + JobOutput.progressText(progress)
    }

    static func workerSeen(_ connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT 1 FROM workers WHERE last_heartbeat_at > now() - interval '30 seconds')")[0].decode(0)
    }
}
