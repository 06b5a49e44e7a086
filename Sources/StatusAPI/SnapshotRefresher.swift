import Foundation
import JobQueue
import PostgresClient
import Synchronization

/// The one thread that reads the database for the status server, on its own connection.
///
/// Each tick checks the schema version (what `/readyz` needs), then builds the report and
/// the metrics text and swaps them into the store. Failures are kept as text for `/readyz`
/// and `/status` and retried at the next tick; the connection is reopened when lost.
final class SnapshotRefresher: Sendable {
    private let configuration: StatusConfiguration
    private let store: SnapshotStore
    private let stopRequested = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let firstTick = DispatchSemaphore(value: 0)

    init(configuration: StatusConfiguration, store: SnapshotStore) {
        self.configuration = configuration
        self.store = store
    }

    /// Starts the thread and waits (up to `firstTickTimeout`) for its first refresh, so a
    /// request right after start is answered from data.
    func start(firstTickTimeout: Double = 3) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in run() }
        thread.name = "kek-status-refresh"
        thread.start()
        _ = firstTick.wait(timeout: .now() + firstTickTimeout)
    }

    /// Asks the thread to stop and waits for it (it closes its connection on the way out).
    @discardableResult
    func stop(timeout: Double = 5) -> Bool {
        guard started.load(ordering: .relaxed), !stopRequested.exchange(true, ordering: .relaxed) else { return true }
        return finished.wait(timeout: .now() + timeout) == .success
    }

    private func run() {
        var reporter: StatusReporter?
        var signalledFirst = false
        while !stopRequested.load(ordering: .relaxed) {
            let tickStart = Date()
            do {
                let current = try reporter ?? makeReporter()
                reporter = current
                try tick(current)
            } catch {
                let message = "\(error)"
                // The detail goes to the operator's log (once per change), never to an endpoint.
                if message != store.current.lastError { FileHandle.standardError.write(Data("kek: status: \(message)\n".utf8)) }
                // The reporter is kept (its connection reconnects by itself, and its rate
                // history survives a blip); only a failed first connect leaves it nil.
                store.update { $0.lastError = message }
            }
            if !signalledFirst {
                firstTick.signal()
                signalledFirst = true
            }
            sleep(until: tickStart.addingTimeInterval(configuration.refreshInterval))
        }
        reporter = nil
        finished.signal()
    }

    private func makeReporter() throws -> StatusReporter {
        let connection = try PostgresConnection(configuration.databaseURL)
        let reporter = StatusReporter(connection: connection, schedules: configuration.schedules,
                                      expectedSchemaVersion: configuration.expectedSchemaVersion,
                                      statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds)
        reporter.recentJobs = configuration.recentJobs
        return reporter
    }

    private func tick(_ reporter: StatusReporter) throws {
        let version = try reporter.schemaVersion()
        store.update {
            $0.databaseAnsweredAt = Date()
            $0.schemaVersion = version
        }
        if let expected = configuration.expectedSchemaVersion, version < expected {
            throw SchemaBehind(version: version, expected: expected)
        }
        let report = try reporter.report()
        let json = try JSONCodec.encodeBytes(report)
        let metrics = Array(try StatusMetrics.render(report, counters: try reporter.counters()).utf8)
        store.update {
            $0.json = json
            $0.metrics = metrics
            $0.reportedAt = report.generatedAt
            $0.lastError = nil
        }
    }

    private func sleep(until deadline: Date) {
        while !stopRequested.load(ordering: .relaxed) {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            Thread.sleep(forTimeInterval: min(left, 0.05))
        }
    }
}

/// The database is older than this program: reports would read missing tables.
struct SchemaBehind: Error, CustomStringConvertible {
    var version: Int
    var expected: Int
    var description: String { "database schema is at version \(version), this program needs \(expected): run 'kek migrate'" }
}
