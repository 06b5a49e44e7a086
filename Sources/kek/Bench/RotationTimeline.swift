import Foundation
import JobQueue

/// Where a rotation's time went, by the job's own timestamps (the database's clock): from the
/// enqueue to the first part's claim (the parent's claim, preparation and start transaction),
/// the parts themselves, and from the last part's end to the job's (the parent noticing, the
/// sweep's count, retirement, the audit rows). The first and the last are what a rotation
/// costs whatever its size.
struct RotationTimeline: Encodable {
    var parts: Int
    var startSeconds: Double
    var partsSeconds: Double
    var finishSeconds: Double

    enum CodingKeys: String, CodingKey {
        case parts, startSeconds = "start_seconds", partsSeconds = "parts_seconds", finishSeconds = "finish_seconds"
    }

    /// Nil when the job or a part lacks a timestamp (a part never claimed: the sweep moved its rows).
    init?(job: Job, parts: [Job]) {
        let started = parts.compactMap(\.startedAt)
        let ended = parts.compactMap(\.finishedAt)
        guard let finished = job.finishedAt, let first = started.min(), let last = ended.max(), started.count == parts.count else {
            return nil
        }
        self.parts = parts.count
        startSeconds = first.timeIntervalSince(job.createdAt)
        partsSeconds = last.timeIntervalSince(first)
        finishSeconds = finished.timeIntervalSince(last)
    }

    var summary: String {
        String(format: "start %.0f ms, %d parts %.2f s, finish %.0f ms", startSeconds * 1000, parts, partsSeconds, finishSeconds * 1000)
    }
}
