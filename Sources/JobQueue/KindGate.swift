import Foundation
import PostgresClient
import Synchronization

/// A set of job kinds that a worker claims only while a check says it can run them.
///
/// Why: a worker that lacks what some kinds need (configuration, credentials, a local
/// resource) must not claim those jobs and burn their attempts or push them into retry
/// back-offs; it should leave them to workers that can, and say so once. The check is the
/// caller's (the queue knows nothing of what a kind needs); the gate caches its answer,
/// closes the kinds for `backoff` seconds after a failed check or a hand-back, and reports
/// a change of state once, not once per poll.
public final class JobKindGate: Sendable {
    /// nil when the kinds can run here; otherwise the reason, for people (no secrets).
    public typealias Check = @Sendable (PostgresConnection) throws -> String?

    /// What `/readyz` and metrics show.
    public struct Status: Sendable, Equatable {
        public var name: String
        public var kinds: [String]
        public var ready: Bool
        public var reason: String?
    }

    public let name: String
    public let kinds: Set<String>
    /// Seconds the kinds stay unclaimed after a failed check or a hand-back.
    public let backoff: Double
    /// Seconds a passing check is trusted before it runs again.
    public let recheck: Double
    private let check: Check
    private let state = Mutex<State>(State())

    private struct State {
        var checked = false
        var reason: String?
        var nextCheck = Date.distantPast
    }

    public init(name: String, kinds: [String], backoff: Double = 30, recheck: Double = 10, check: @escaping Check) {
        self.name = name
        self.kinds = Set(kinds)
        self.backoff = backoff
        self.recheck = recheck
        self.check = check
    }

    public var status: Status {
        state.withLock { state in
            Status(name: name, kinds: kinds.sorted(), ready: state.checked && state.reason == nil,
                   reason: state.checked ? state.reason : "not checked yet")
        }
    }

    /// Whether the kinds may be claimed now; runs the check when it is due. A thrown error
    /// (the database) leaves the previous answer in place.
    func isOpen(_ connection: PostgresConnection, announce: (String, String) -> Void) throws -> Bool {
        let due = state.withLock { Date() >= $0.nextCheck }
        if due { update(reason: try check(connection), announce: announce) }
        return state.withLock { $0.reason == nil }
    }

    /// Closes the kinds for `backoff` seconds: a job of them could not run here after all.
    func close(reason: String, announce: (String, String) -> Void) {
        update(reason: reason, announce: announce)
    }

    private func update(reason: String?, announce: (String, String) -> Void) {
        let changed = state.withLock { state -> Bool in
            let changed = !state.checked || state.reason != reason
            state.checked = true
            state.reason = reason
            state.nextCheck = Date().addingTimeInterval(reason == nil ? recheck : backoff)
            return changed
        }
        guard changed else { return }
        let list = kinds.sorted().joined(separator: ",")
        if let reason {
            announce("kinds_disabled", "\(name) kinds (\(list)) not claimed by this worker: \(reason); checking again every \(Int(backoff))s")
        } else {
            announce("kinds_enabled", "\(name) kinds (\(list)) claimed by this worker")
        }
    }
}

/// Thrown by a handler when this worker cannot run the job but another may (what it needs
/// is missing here). The runner puts the job back in the queue without counting the attempt
/// and closes the job's gate for its back-off period.
public struct JobNotRunnableHere: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "cannot run here: \(reason)" }
}

extension JobHandlerRegistry {
    /// Claims `gate.kinds` only while the gate is open. Kinds without a gate are always claimed.
    public mutating func gate(_ gate: JobKindGate) { gates.append(gate) }

    /// The state of every gate, for readiness endpoints and metrics.
    public var gateStatus: [JobKindGate.Status] { gates.map(\.status) }

    func gate(for kind: String) -> JobKindGate? { gates.first { $0.kinds.contains(kind) } }

    /// The kinds a claim may ask for now: every registered kind whose gate (if any) is open.
    func claimableKinds(_ connection: PostgresConnection, announce: (String, String) -> Void) throws -> [String] {
        var closed: Set<String> = []
        for gate in gates where try !gate.isOpen(connection, announce: announce) { closed.formUnion(gate.kinds) }
        return kinds.filter { !closed.contains($0) }
    }
}
