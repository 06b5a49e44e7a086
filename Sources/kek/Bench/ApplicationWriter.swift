import Foundation
import KeyManagement
import PostgresClient
import Synchronization

/// An application beside the rotation: on its own connection and thread it stores one new
/// secret at a time (`SecretStore.put`: new DEK under the active KEK, wrap counter, value,
/// audit row, one transaction) at a steady rate, and records how long each insert took.
/// A DEK refused because the active KEK changed under it is retried with the fresh KEK, as
/// DESIGN.md tells applications to, and so is a deadlock with the rotation (kek's lock order
/// between the audit chain and the KEK row lets one happen); retries count in that insert's latency.
final class ApplicationWriter: Sendable {
    private struct State {
        var latencies: [Double] = []
        var stopRequested = false
        var retries = 0
        var failure: String?
    }

    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)
    private let url: String
    private let interval: Double

    init(url: String, insertsPerSecond: Double) {
        self.url = url
        interval = 1 / insertsPerSecond
    }

    func start() {
        Thread { [self] in
            defer { finished.signal() }
            do { try writeUntilStopped() } catch { state.withLock { $0.failure = "\(error)" } }
        }.start()
    }

    /// Stops the writer and returns the latencies it measured.
    func stop() throws -> LatencySample {
        state.withLock { $0.stopRequested = true }
        finished.wait()
        let final = state.withLock { $0 }
        if let failure = final.failure { throw CommandFailure("the application writer failed: \(failure)") }
        return LatencySample(milliseconds: final.latencies, retries: final.retries)
    }

    private func writeUntilStopped() throws {
        let connection = try PostgresConnection(url)
        let store = SecretStore(connection: connection, keks: KEKCiphers(connection: connection, rootKeys: try RootKeys.fromEnvironment()),
                                actor: "bench-app")
        let project = UUID()
        var index = 0
        var due = DispatchTime.now().uptimeNanoseconds
        // At least one insert per phase, however short the phase (a rotation of a few hundred rows).
        repeat {
            index += 1
            let started = DispatchTime.now().uptimeNanoseconds
            try putRetrying(store, project: project, index: index)
            let ended = DispatchTime.now().uptimeNanoseconds
            state.withLock { $0.latencies.append(Double(ended - started) / 1_000_000) }
            due = max(due + UInt64(interval * 1_000_000_000), ended)
            if due > ended { Thread.sleep(forTimeInterval: Double(due - ended) / 1_000_000_000) }
        } while !state.withLock({ $0.stopRequested })
    }

    /// SQLSTATEs an application retries: the active KEK changed under the insert (23514), and
    /// deadlock (40P01) or serialization failure (40001) with a rotation's own transactions.
    static let retriable: Set<String> = ["23514", "40P01", "40001"]

    /// One insert, retried (up to 5 attempts) the way an application would, each retry counted.
    private func putRetrying(_ store: SecretStore, project: UUID, index: Int) throws {
        for attempt in 1... {
            do {
                return try put(store, project: project, index: index)
            } catch let error as PostgresError where attempt < 5 && Self.retriable.contains(error.sqlState?.code ?? "") {
                state.withLock { $0.retries += 1 }
            }
        }
    }

    private func put(_ store: SecretStore, project: UUID, index: Int) throws {
        try store.put(project: project, name: "bench_app_\(index)", value: SecretBytes([UInt8](repeating: 0x5a, count: 32)))
    }
}

/// What one writer measured: each insert's latency, and how many inserts were retried.
struct LatencySample {
    var milliseconds: [Double]
    var retries: Int
}

/// p50/p99 of one phase's insert latencies (pooled over its windows), and what the server did
/// in the background meanwhile.
struct LatencyFigures: Encodable {
    var label: String
    var inserts: Int
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    var maxMilliseconds: Double
    var retries: Int
    var activity: PhaseActivity

    enum CodingKeys: String, CodingKey {
        case label, inserts, retries, activity
        case p50Milliseconds = "p50_milliseconds", p99Milliseconds = "p99_milliseconds", maxMilliseconds = "max_milliseconds"
    }

    init(label: String, samples: [LatencySample], activity: PhaseActivity) {
        let sorted = samples.flatMap(\.milliseconds).sorted()
        func percentile(_ fraction: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
        }
        self.label = label
        inserts = sorted.count
        p50Milliseconds = percentile(0.5)
        p99Milliseconds = percentile(0.99)
        maxMilliseconds = sorted.last ?? 0
        retries = samples.reduce(0) { $0 + $1.retries }
        self.activity = activity
    }
}
