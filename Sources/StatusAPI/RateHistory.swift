import Foundation

/// Progress samples per job over the last minute, to report rows/s "over the last minute"
/// rather than the worker's per-checkpoint moving average, which jumps between batches.
///
/// Owned by one reporter (one thread); the snapshot refresher and `kek status --watch` keep
/// theirs across refreshes. A one-shot report has a single sample and falls back to the
/// stored average.
struct RateHistory {
    private var samples: [Int64: [(at: Date, done: Int64)]] = [:]
    let window: TimeInterval

    init(window: TimeInterval = 60) {
        self.window = window
    }

    /// Records `done` for `job` at `at` and returns rows/s since the oldest sample within
    /// the window, or nil while the samples span less than a second.
    mutating func record(job: Int64, done: Int64, at: Date) -> Double? {
        var list = samples[job, default: []]
        list.append((at, done))
        // Keep one sample at or just before the window's start as the baseline.
        while list.count > 2, list[1].at <= at.addingTimeInterval(-window) { list.removeFirst() }
        samples[job] = list
        guard let first = list.first, at.timeIntervalSince(first.at) >= 1 else { return nil }
        return max(0, Double(done - first.done) / at.timeIntervalSince(first.at))
    }

    /// Forgets jobs no longer reported, so the history stays as small as the job list.
    mutating func retain(only jobs: Set<Int64>) {
        samples = samples.filter { jobs.contains($0.key) }
    }
}
