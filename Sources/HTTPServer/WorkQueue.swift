import Dispatch
import Synchronization

/// A FIFO of jobs for a fixed set of worker threads.
///
/// Bounded in practice by `maxConnections`: a connection has at most one request in flight,
/// so the queue can never hold more jobs than there are open connections.
final class WorkQueue<Job: Sendable>: Sendable {
    private struct State {
        var jobs: [Job] = []
        var head = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// Adds a job. Returns false (and does not enqueue) once the queue is closed.
    func submit(_ job: Job) -> Bool {
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Blocks until a job is available; nil once the queue is closed and empty.
    func next() -> Job? {
        while true {
            available.wait()
            let result: Job?? = state.withLock { state in
                if state.head < state.jobs.count {
                    let job = state.jobs[state.head]
                    state.head += 1
                    if state.head > 64 && state.head * 2 > state.jobs.count {
                        state.jobs.removeFirst(state.head)
                        state.head = 0
                    }
                    return .some(job)
                }
                return state.closed ? .some(nil) : nil
            }
            if let result { return result }
        }
    }

    /// Closes the queue, wakes `waiters` blocked workers, and returns the jobs nobody took.
    func close(waking waiters: Int) -> [Job] {
        let pending = state.withLock { state in
            state.closed = true
            let pending = Array(state.jobs[state.head...])
            state.jobs = []
            state.head = 0
            return pending
        }
        for _ in 0..<waiters { available.signal() }
        return pending
    }
}
