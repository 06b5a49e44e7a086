import Foundation
import JobQueue
import PostgresClient

/// Follows a job (and its parts) until it ends, with a progress line: done/total, rows/s, ETA.
enum JobWaiter {
    /// Blocks until the job is completed (returns), or failed or cancelled (throws), or
    /// `timeout` seconds have passed (throws; the job itself goes on). The line shows
    /// `JobQueue.progress`, the same numbers as `kek status` and /status.
    static func wait(_ connection: PostgresConnection, jobID: Int64, label: String, interval: Double = 1,
                     expectWorkers: Bool = true, timeout: Double? = nil) throws {
        let queue = JobQueue(connection: connection)
        var warnedNoWorker = false
        let deadline = timeout.map { Date().addingTimeInterval($0) }
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
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 {
                    Terminal.endProgress()
                    throw CommandFailure("gave up waiting after \(Formatting.duration(timeout ?? 0)): job \(jobID) is \(progress.state.rawValue) "
                        + "and goes on; follow it with 'kek jobs show \(jobID)'")
                }
                Thread.sleep(forTimeInterval: min(interval, left))
                continue
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    static func line(_ label: String, _ progress: JobProgressSummary) -> String {
        "\(label): \(progress.state.rawValue) " + JobOutput.progressText(progress)
    }

    static func workerSeen(_ connection: PostgresConnection) throws -> Bool {
        try JobQueue(connection: connection).anyWorkerAlive()
    }
}
