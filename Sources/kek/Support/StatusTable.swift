import Foundation
import StatusAPI

/// `kek status` for people: the report of `GET /status` as tables.
enum StatusTable {
    static func render(_ report: StatusReport) -> String {
        var sections: [String] = []
        sections.append("KEKs (wrap limit \(Formatting.count(report.wrapLimit)) seals per KEK)")
        sections.append(report.keks.isEmpty ? "  none" : TextTable.render(
            ["ID", "STATE", "DEKS", "WRAPS", "HEADROOM", "CREATED", "ACTIVATED", "RETIRED"],
            report.keks.map {
                [String($0.id), $0.state.rawValue, Formatting.count($0.dekCount), Formatting.count($0.wrapCount),
                 Formatting.count($0.wrapHeadroom), Formatting.time($0.createdAt), Formatting.time($0.activatedAt),
                 Formatting.time($0.retiredAt)]
            }))
        sections.append("\nJobs")
        sections.append(report.jobs.isEmpty ? "  none" : TextTable.render(
            ["ID", "KIND", "STATE", "ATTEMPT", "DONE/TOTAL", "ROWS/S", "ETA", "PARTS", "LAST ERROR"],
            report.jobs.map(jobRow)))
        sections.append("\nWorkers")
        sections.append(report.workers.isEmpty ? "  none has reported" : TextTable.render(
            ["ID", "ALIVE", "LAST HEARTBEAT", "AGE"],
            report.workers.map {
                [$0.id, $0.alive ? "yes" : "no", Formatting.time($0.lastHeartbeatAt), Formatting.duration($0.heartbeatAgeSeconds)]
            }))
        let rotation = report.rotation
        sections.append("\nlast rotation: " + (rotation.lastFinishedAt.map {
            Formatting.time($0) + (rotation.lastJobId.map { " (job \($0))" } ?? "")
        } ?? "none on record"))
        sections.append("next rotation: " + (rotation.nextDueAt.map { Formatting.time($0) + " (\(rotation.nextBasis))" }
            ?? rotation.nextBasis))
        let waiting = report.queue.counts.filter { $0.state == .queued }.reduce(0) { $0 + $1.count }
        sections.append("queue: \(Formatting.count(waiting)) queued"
            + (report.queue.oldestQueuedAgeSeconds.map { ", oldest waiting \(Formatting.duration($0))" } ?? ""))
        if let expected = report.expectedSchemaVersion, expected != report.schemaVersion {
            sections.append("schema: version \(report.schemaVersion), this binary expects \(expected): run 'kek migrate'")
        }
        return sections.joined(separator: "\n")
    }

    private static func jobRow(_ job: JobStatus) -> [String] {
        let total = job.total.map { Formatting.count($0) } ?? "?"
        let parts = job.parts.map { "\($0.completed)/\($0.count) done" + ($0.running > 0 ? ", \($0.running) running" : "") } ?? "-"
        var error = job.lastError ?? "-"
        if error.count > 60 { error = String(error.prefix(57)) + "..." }
        return [String(job.id), job.kind, job.state.rawValue + (job.desiredState.map { " -> \($0.rawValue)" } ?? ""),
                "\(job.attempt)/\(job.maxAttempts)", "\(Formatting.count(job.done))/\(total)",
                job.rowsPerSecond.map { Formatting.count(Int($0.rounded())) } ?? "-",
                job.etaSeconds.map(Formatting.duration) ?? "-", parts, error]
    }
}
