import Foundation
import JobQueue
import PostgresClient

extension Command {
    static let jobsBench = Command(
        name: "bench",
        abstract: "Measure claimed-and-completed empty jobs per second (uses DATABASE_URL).",
        discussion: """
            Enqueues --jobs empty jobs of the kind 'bench.empty', runs a worker with each
            --concurrency in turn until all completed, prints jobs/s, then deletes its jobs.
            --history adds that many finished jobs first, to show that claims stay fast on a
            table full of finished work. Run 'kek migrate' first.
            """,
        options: [
            .value("jobs", "N", "Jobs per run.", default: "5000"),
            .value("concurrency", "N[,N]", "Job loops per run, one run each.", default: "1,4"),
            .value("history", "N", "Finished jobs to add to the table before measuring.", default: "0"),
        ],
        run: { arguments in
            let url = try Database.requiredURL()
            let count = try arguments.int("jobs") ?? 5000
            let history = try arguments.int("history") ?? 0
            let levels = try (arguments.string("concurrency") ?? "1,4").split(separator: ",").map { text -> Int in
                guard let level = Int(text), (1...256).contains(level) else {
                    throw UsageError("kek jobs bench: --concurrency takes numbers like 1,4; got '\(text)'")
                }
                return level
            }
            let db = try PostgresConnection(url)
            let queue = JobQueue(connection: db)
            guard try queue.schemaInstalled() else {
                throw CommandFailure("the database has no jobs table; run 'kek migrate' first")
            }
            let kind = "bench.empty"
            defer { _ = try? queue.deleteJobs(kinds: [kind, "bench.history"]) }
            if history > 0 { try queue.addFinishedHistory(kind: "bench.history", count: history) }
            var handlers = JobHandlerRegistry()
            handlers.register(kind) { _ in .completed(result: nil) }
            print("jobs: \(count) per run, finished jobs in the table: \(history)")
            for level in levels {
                try queue.deleteJobs(kinds: [kind])
                try queue.enqueueMany(JobRequest(kind: kind), count: count)
                // Start every run from the same table state, not from the previous run's dead rows.
                try queue.vacuumJobs()
                var configuration = WorkerConfiguration(databaseURL: url, workerID: "bench:\(getpid())")
                configuration.concurrency = level
                configuration.retention = nil
                configuration.pollInterval = 0.2
                let worker = JobWorker(configuration: configuration, handlers: handlers, events: NoEvents())
                let started = Date()
                worker.start()
                while try queue.uncompletedCount(kind: kind) > 0 {
                    Thread.sleep(forTimeInterval: 0.02)
                }
                let seconds = Date().timeIntervalSince(started)
                worker.requestStop()
                _ = worker.waitUntilStopped(timeout: 10)
                print(String(format: "concurrency %d: %d jobs in %.2f s = %.0f jobs/s", level, count, seconds,
                             Double(count) / seconds))
            }
        }
    )
}

/// Drops job events (the benchmark measures the queue, not the log).
struct NoEvents: JobEventSink {
    func record(_ event: JobEvent) {}
}
