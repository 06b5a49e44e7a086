import HTTPServer
import JobQueue

/// The Prometheus exposition of a status report (`GET /metrics`).
///
/// Rendered from the same report as `/status`, so the two never disagree and a scrape costs
/// no query. Units are in the names, `_total` only on counters. The counters come from
/// tables (the audit log, the jobs table), so a restart of this process does not reset them;
/// pruning finished jobs does lower `kek_job_failures_total`, which Prometheus treats as a reset.
public enum StatusMetrics {
    public static func render(_ report: StatusReport) throws -> String {
        var out = PrometheusExposition()
        try out.family("kek_deks", type: .gauge, help: "DEKs wrapped under each KEK.")
        for kek in report.keks {
            try out.sample("kek_deks", labels: [("kek_id", String(kek.id)), ("state", kek.state)], value: Double(kek.dekCount))
        }
        try out.family("kek_kek_wraps_total", type: .counter,
                       help: "AES-GCM seals made under each KEK, counted against kek_kek_wrap_limit (NIST SP 800-38D 8.3).")
        for kek in report.keks {
            try out.sample("kek_kek_wraps_total", labels: [("kek_id", String(kek.id))], value: Double(kek.wrapCount))
        }
        try out.family("kek_kek_wrap_limit", type: .gauge, help: "Seals allowed under one KEK before it must be rotated.")
        try out.sample("kek_kek_wrap_limit", value: Double(report.wrapLimit))
        try out.family("kek_kek_info", type: .gauge, help: "One series per KEK with its lifecycle state; the value is always 1.")
        for kek in report.keks {
            try out.sample("kek_kek_info", labels: [("kek_id", String(kek.id)), ("state", kek.state)], value: 1)
        }
        try out.family("kek_active_kek_age_seconds", type: .gauge,
                       help: "Time since the active KEK was activated (its age against the cryptoperiod).")
        if let age = report.rotation.activeKekAgeSeconds { try out.sample("kek_active_kek_age_seconds", value: age) }
        try out.family("kek_rows_rewrapped_total", type: .counter,
                       help: "DEKs rewrapped by finished and failed rotations on record, plus the running rotation's progress.")
        try out.sample("kek_rows_rewrapped_total", value: Double(report.rotation.rowsRewrappedTotal))
        try out.family("kek_last_rotation_timestamp_seconds", type: .gauge,
                       help: "Unix time the last rotation finished; absent when none has.")
        if let last = report.rotation.lastFinishedAt {
            try out.sample("kek_last_rotation_timestamp_seconds", value: last.timeIntervalSince1970.rounded())
        }
        try out.family("kek_next_rotation_timestamp_seconds", type: .gauge,
                       help: "Unix time the next scheduled rotation is due; absent when unknown to this process.")
        if let next = report.rotation.nextDueAt {
            try out.sample("kek_next_rotation_timestamp_seconds", value: next.timeIntervalSince1970.rounded())
        }
        try renderJobs(report, into: &out)
        try out.family("kek_workers_seen", type: .gauge,
                       help: "Workers not stopped with a heartbeat in the last 30 seconds.")
        try out.sample("kek_workers_seen", value: Double(report.workers.filter(\.alive).count))
        return out.text
    }

    /// `kek_worker_<gate>_ready`: 1 while this worker claims the gate's kinds, 0 while it
    /// leaves them to others (`/readyz` says why). Appended per scrape: it is this process's state.
    public static func gates(_ gates: [JobKindGate.Status]) -> [UInt8] {
        var out = PrometheusExposition()
        for gate in gates {
            let name = "kek_worker_\(gate.name)_ready"
            try? out.family(name, type: .gauge, help: "1 while this worker claims the \(gate.name) job kinds, 0 while it cannot run them.")
            try? out.sample(name, value: gate.ready ? 1 : 0)
        }
        return Array(out.text.utf8)
    }

    private static func renderJobs(_ report: StatusReport, into out: inout PrometheusExposition) throws {
        try out.family("kek_jobs", type: .gauge, help: "Jobs in the jobs table per kind and state (finished jobs until pruned).")
        for cell in report.queue.counts {
            try out.sample("kek_jobs", labels: [("kind", cell.kind), ("state", cell.state)], value: Double(cell.count))
        }
        try out.family("kek_job_failures_total", type: .counter,
                       help: "Jobs that ended failed, per kind, still in the jobs table (pruning lowers it: a counter reset).")
        var failures: [String: Int] = [:]
        for cell in report.queue.counts {
            failures[cell.kind, default: 0] += cell.state == JobState.failed.rawValue ? cell.count : 0
        }
        for (kind, count) in failures.sorted(by: { $0.key < $1.key }) {
            try out.sample("kek_job_failures_total", labels: [("kind", kind)], value: Double(count))
        }
        try out.family("kek_queue_oldest_queued_age_seconds", type: .gauge,
                       help: "Age of the oldest runnable job no worker has claimed; 0 when none waits.")
        try out.sample("kek_queue_oldest_queued_age_seconds", value: report.queue.oldestQueuedAgeSeconds ?? 0)
        let active = report.jobs.filter { !(JobState(rawValue: $0.state)?.isFinished ?? true) }
        try out.family("kek_job_progress_ratio", type: .gauge, help: "Done over total for each active job with a known total.")
        for job in active {
            guard let ratio = job.progressRatio else { continue }
            try out.sample("kek_job_progress_ratio", labels: [("job_id", String(job.id)), ("kind", job.kind)], value: ratio)
        }
        try out.family("kek_job_rows_per_second", type: .gauge, help: "Rate of each active job over the last minute.")
        for job in active {
            guard let rate = job.rowsPerSecond else { continue }
            try out.sample("kek_job_rows_per_second", labels: [("job_id", String(job.id)), ("kind", job.kind)], value: rate)
        }
        try out.family("kek_job_eta_seconds", type: .gauge, help: "Estimated time left for each active job at its current rate.")
        for job in active {
            guard let eta = job.etaSeconds else { continue }
            try out.sample("kek_job_eta_seconds", labels: [("job_id", String(job.id)), ("kind", job.kind)], value: eta.rounded())
        }
    }
}
