import Foundation
import Synchronization

/// A one-way "please stop" shared by a worker's threads (set on SIGTERM/SIGINT).
/// Lock-free, so it may be set from a signal handler's flag poller without blocking.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func request() { flag.store(true, ordering: .releasing) }

    public var isRequested: Bool { flag.load(ordering: .acquiring) }

    /// Sleeps up to `seconds`, waking early (within 50 ms) once a stop is requested.
    /// Returns false when woken by a stop.
    @discardableResult
    public func sleep(_ seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !isRequested {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return true }
            Thread.sleep(forTimeInterval: min(left, 0.05))
        }
        return false
    }
}
