import Foundation
import JobQueue
import PostgresClient
import Synchronization
import TestSupport

/// Records job events for assertions.
final class RecordedEvents: JobEventSink {
    private let events = Mutex<[JobEvent]>([])
    func record(_ event: JobEvent) { events.withLock { $0.append(event) } }
    var all: [JobEvent] { events.withLock { $0 } }
    func names(for jobID: Int64) -> [String] { all.filter { $0.jobID == jobID }.map(\.event) }
}

/// A migrated database plus the helpers the tests share.
struct QueueFixture: DatabaseFixture {
    let url: String
    let db: PostgresConnection
    var connection: PostgresConnection { db }
    var queue: JobQueue { JobQueue(connection: db) }

    init() throws {
        url = try TestDatabase.migrated()
        db = try PostgresConnection(url)
        try db.execute("CREATE TABLE noop_runs (job_id int8, step int4, worker_id text, attempt int4, at timestamptz DEFAULT clock_timestamp())")
    }

    func runner(_ handlers: JobHandlerRegistry, worker: String = "test-worker", lease: Double = 30,
                retry: RetryPolicy = RetryPolicy(base: 0.05, maximum: 1), events: RecordedEvents? = nil,
                stop: StopSignal = StopSignal()) throws -> JobRunner {
        JobRunner(connection: try PostgresConnection(url), workerID: worker, handlers: handlers, events: events,
                  stop: stop, leaseSeconds: lease, retry: retry)
    }

    func job(_ id: Int64) throws -> Job {
        guard let job = try queue.job(id) else { throw TestFailure(description: "job \(id) missing") }
        return job
    }
}

extension JobHandlerRegistry {
    static var noop: JobHandlerRegistry {
        var registry = JobHandlerRegistry()
        registry.register(NoopJobHandler())
        return registry
    }
}
