import Foundation
import JobQueue

/// How `kek jobs` prints jobs for people: aligned text (`JobDocument` is the JSON for scripts).
enum JobOutput {
    /// done/total, rows/s and ETA as every progress line prints them.
    static func progressText(_ progress: JobProgressSummary) -> String {
        var text = "\(Formatting.count(progress.done))/\(progress.total.map { Formatting.count($0) } ?? "?")"
        if let ratio = progress.ratio { text += String(format: " (%.0f%%)", ratio * 100) }
        if let rate = progress.rate { text += ", \(Formatting.count(Int(rate.rounded()))) rows/s" }
        if let eta = progress.etaSeconds { text += ", ETA \(Formatting.duration(eta))" }
        return text
    }

    static func timestamp(_ date: Date) -> String {
        // RFC 3339 in UTC with `Z` (README "JSON output"); the tables show the same text.
        date.formatted(.iso8601)
    }

    static func table(_ jobs: [Job], _ progress: [Int64: JobProgressSummary]) -> String {
        let header = ["ID", "STATE", "KIND", "ATTEMPT", "PROGRESS", "RUN AT", "LAST ERROR"]
        let rows = jobs.map { job -> [String] in
            var state = (progress[job.id]?.state ?? job.state).rawValue
            if let desired = job.desiredState { state += "→\(desired.rawValue)" }
            let error = job.lastError.map { $0.count > 60 ? String($0.prefix(59)) + "…" : $0 } ?? ""
            return ["\(job.id)", state, job.kind, "\(job.attempt)/\(job.maxAttempts)", progress[job.id].map(progressText) ?? "",
                    timestamp(job.runAt), error.replacingOccurrences(of: "\n", with: " ")]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func details(_ job: Job, _ progress: JobProgressSummary?) -> String {
        var lines: [(String, String)] = [
            ("id", "\(job.id)"), ("kind", job.kind), ("state", (progress?.state ?? job.state).rawValue),
        ]
        if let desired = job.desiredState { lines.append(("requested", "\(desired.rawValue) (at the next batch boundary)")) }
        lines += [
            ("args", job.argumentsJSON), ("priority", "\(job.priority)"), ("run at", timestamp(job.runAt)),
            ("attempt", "\(job.attempt) of \(job.maxAttempts)"), ("progress", progress.map(progressText) ?? ""),
        ]
        let optional: [(String, String?)] = [
            ("unique key", job.uniqueKey), ("parent", job.parentID.map { "\($0)" }),
            ("lease owner", job.leaseOwner), ("lease expires", job.leaseExpiresAt.map(timestamp)),
            ("checkpoint", job.checkpointJSON), ("result", job.resultJSON), ("last error", job.lastError),
            ("earlier errors", job.attemptErrorsJSON == "[]" ? nil : job.attemptErrorsJSON),
            ("created", timestamp(job.createdAt)), ("started", job.startedAt.map(timestamp)),
            ("checkpointed", job.checkpointedAt.map(timestamp)), ("finished", job.finishedAt.map(timestamp)),
        ]
        lines += optional.compactMap { key, value in value.map { (key, $0) } }
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { "\($0.0.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.1)" }.joined(separator: "\n")
    }
}
