import Foundation
import JobQueue

/// How `kek jobs` prints jobs: aligned text for people, JSON for scripts. JSON columns are
/// embedded as JSON, not as strings.
enum JobOutput {
    /// done/total, rows/s and ETA as every progress line prints them.
    static func progressText(_ progress: JobProgressSummary) -> String {
        var text = "\(Formatting.count(progress.done))/\(progress.total.map { Formatting.count($0) } ?? "?")"
        if let ratio = progress.ratio { text += String(format: " (%.0f%%)", ratio * 100) }
        if let rate = progress.rate { text += ", \(Formatting.count(Int(rate.rounded()))) rows/s" }
        if let eta = progress.etaSeconds { text += ", ETA \(Formatting.duration(eta))" }
        return text
    }

    /// `progress` of `kek jobs --json`: the numbers `kek status --json` and /status show.
    static func json(_ progress: JobProgressSummary?) -> Any {
        guard let progress else { return NSNull() }
        return ["state": progress.state.rawValue, "done": progress.done, "total": progress.total ?? NSNull(),
                "rows_per_second": progress.rate ?? NSNull(), "eta_seconds": progress.etaSeconds ?? NSNull()] as [String: Any]
    }

    static func json(_ job: Job, _ progress: JobProgressSummary?) -> [String: Any] {
        var object = json(job)
        object["progress"] = json(progress)
        return object
    }

    /// The job row, without its own progress columns: `progress` (above) is the one
    /// done/total/rate every view shows (README "JSON output": one name per concept).
    static func json(_ job: Job) -> [String: Any] {
        func embed(_ text: String?) -> Any {
            guard let text, let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) else {
                return NSNull()
            }
            return value
        }
        func date(_ value: Date?) -> Any { value.map(timestamp) ?? NSNull() }
        func optional(_ value: Any?) -> Any { value ?? NSNull() }
        return [
            "id": job.id, "kind": job.kind, "args": embed(job.argumentsJSON), "state": job.state.rawValue,
            "desired_state": optional(job.desiredState?.rawValue), "priority": job.priority, "run_at": date(job.runAt),
            "attempt": job.attempt, "max_attempts": job.maxAttempts, "max_run_seconds": optional(job.maxRunSeconds),
            "unique_key": optional(job.uniqueKey), "parent_id": optional(job.parentID),
            "lease_owner": optional(job.leaseOwner), "lease_expires_at": date(job.leaseExpiresAt),
            "checkpoint": embed(job.checkpointJSON), "result": embed(job.resultJSON), "last_error": optional(job.lastError),
            "created_at": date(job.createdAt), "updated_at": date(job.updatedAt), "started_at": date(job.startedAt),
            "attempted_at": date(job.attemptedAt), "checkpointed_at": date(job.checkpointedAt),
            "finished_at": date(job.finishedAt), "attempt_errors": embed(job.attemptErrorsJSON),
        ]
    }

    static func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
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
