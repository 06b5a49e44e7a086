import JobQueue

/// Worker loops inside this process, for the demo and the benchmark: started before `body`
/// and stopped after it, whatever it throws.
enum InProcessWorker {
    static func running<T>(_ configuration: WorkerConfiguration, stopTimeout: Double, _ body: () throws -> T) rethrows -> T {
        let worker = JobWorker(configuration: configuration, handlers: JobKinds.handlers(actor: configuration.workerID), events: QuietEvents())
        worker.start()
        defer {
            worker.requestStop()
            _ = worker.waitUntilStopped(timeout: stopTimeout)
        }
        return try body()
    }
}
