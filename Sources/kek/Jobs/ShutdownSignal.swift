import Foundation
import Synchronization

/// SIGTERM / SIGINT as a flag: the handler only stores into an atomic (async-signal-safe);
/// the main thread polls it and asks the worker to stop. A second signal exits at once.
enum ShutdownSignal {
    static let received = Atomic<Int>(0)

    /// Also ignores SIGHUP (documented): a closed terminal or a `kill -HUP` meant as "reload"
    /// must not kill a worker in the middle of a batch.
    static func install() {
        signal(SIGHUP, SIG_IGN)
        for number in [SIGTERM, SIGINT] {
            signal(number) { _ in
                if ShutdownSignal.received.add(1, ordering: .relaxed).newValue > 1 { _exit(130) }
            }
        }
    }

    static var requested: Bool { received.load(ordering: .relaxed) > 0 }
}
