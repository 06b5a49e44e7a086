import JobQueue

/// Worker loops inside this process, for the demo and the benchmark: started, and their
/// connections open and listening, before `body` (as an operator's workers already run when
/// a job is enqueued: the benchmark times a rotation from its enqueue), and stopped after it,
/// whatever it throws.
enum InProcessWorker {
    static func running<T>(_ configuration: WorkerConfiguration, stopTimeout: Double, _ body: () throws -> T) rethrows -> T {
        let worker = JobWorker(configuration: configuration, handlers: JobKinds.handlers(actor: configuration.workerID), events: QuietEvents())
        worker.start()
        defer {
            worker.requestStop()
            _ = worker.waitUntilStopped(timeout: stopTimeout)
        }
        // Not connected within the timeout: `body` runs anyway, and its own wait reports a job that is never claimed.
        _ = worker.waitUntilConnected(timeout: 10)
        return try body()
    }
}
