import Foundation
import HTTPServer
import JobQueue

/// The Prometheus exposition of a status report (`GET /metrics`).
///
/// Rendered from the same report as `/status`, so the two never disagree and a scrape costs
/// no query. Units are in the names, `_total` only on counters. The counters come from
/// tables (the audit log, the `job_counters` view), so neither a restart of this process nor
/// pruning finished jobs lowers them. Label sets are bounded: KEK ids (a few), job kinds (a
/// handful), states, and live workers; never job ids.
/// Metrics the alerting rules in runbooks/monitoring/ read are listed there; keep names stable.
public enum StatusMetrics {
    public static func render(_ report: StatusReport, counters: OperationalCounters = OperationalCounters()) throws -> String {
        var out = PrometheusExposition()
        try out.family("kek_deks", type: .gauge, help: "DEKs wrapped under each KEK.")
        for kek in report.keks {
            try out.sample("kek_deks", labels: [("kek_id", String(kek.id)), ("state", kek.state.rawValue)], value: Double(kek.dekCount))
        }
        try out.family("kek_kek_wraps_total", type: .counter,
                       help: "AES-GCM seals made under each KEK, counted against kek_kek_wrap_limit (NIST SP 800-38D 8.3).")
        for kek in report.keks {
            try out.sample("kek_kek_wraps_total", labels: [("kek_id", String(kek.id))], value: Double(kek.wrapCount))
        }
        try out.family("kek_kek_unopenable", type: .gauge,
                       help: "1 for a KEK in use (active or decrypt_only) under a root key id no kek process has proven it can open.")
        for kek in report.keks where kek.inUse {
            try out.sample("kek_kek_unopenable", labels: [("kek_id", String(kek.id))], value: kek.unopenable ? 1 : 0)
        }
        try out.family("kek_kek_wrap_limit", type: .gauge, help: "Seals allowed under one KEK before it must be rotated.")
        try out.sample("kek_kek_wrap_limit", value: Double(report.wrapLimit))
        try out.family("kek_kek_info", type: .gauge, help: "One series per KEK with its lifecycle state; the value is always 1.")
        for kek in report.keks {
            try out.sample("kek_kek_info", labels: [("kek_id", String(kek.id)), ("state", kek.state.rawValue)], value: 1)
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
        try renderCounters(counters, into: &out)
        try renderWorkers(report, into: &out)
        return out.text
    }

    /// Series that exist on every scrape, even when the database does not answer: build info
    /// and whether the last refresh worked (`kek_status_refresh_success`, the `up` of the data).
    static func renderProcess(version: String, schemaVersion: Int?, refreshed: Bool, lastRefresh: Date?) throws -> String {
        var out = PrometheusExposition()
        try out.family("kek_build_info", type: .gauge, help: "The kek build serving these metrics; the value is always 1.")
        try out.sample("kek_build_info", labels: [("version", version), ("schema_version", schemaVersion.map(String.init) ?? "")],
                       value: 1)
        try out.family("kek_status_refresh_success", type: .gauge,
                       help: "1 when the status snapshot is fresh (the database answered), 0 when the series below are missing.")
        try out.sample("kek_status_refresh_success", value: refreshed ? 1 : 0)
        try out.family("kek_status_last_refresh_timestamp_seconds", type: .gauge,
                       help: "Unix time of the last successful status refresh; absent before the first.")
        if let lastRefresh {
            try out.sample("kek_status_last_refresh_timestamp_seconds", value: lastRefresh.timeIntervalSince1970.rounded())
        }
        return out.text
    }

    private static func renderCounters(_ counters: OperationalCounters, into out: inout PrometheusExposition) throws {
        let families: [(String, String, KeyPath<JobCounter, Int64>)] = [
            ("kek_job_failures_total", "Jobs that ended failed, per kind (pruning does not lower it).", \.failed),
            ("kek_job_retries_total", "Job attempts that ended in a retry (an error with attempts left, or a lost lease).", \.retries),
            ("kek_job_rows_processed_total", "Progress units (rows) done by jobs of each kind, e.g. DEKs rewrapped by rewrap_part.",
             \.progress),
            ("kek_jobs_enqueued_total", "Jobs enqueued, per kind.", \.jobs),
        ]
        for (name, help, value) in families {
            try out.family(name, type: .counter, help: help)
            for counter in counters.jobs {
                try out.sample(name, labels: [("kind", counter.kind)], value: Double(counter[keyPath: value]))
            }
        }
        try out.family("kek_audit_last_verified_timestamp_seconds", type: .gauge,
                       help: "Unix time 'kek audit verify' last found the audit chain intact; absent when never.")
        if let verified = counters.auditVerifiedAt {
            try out.sample("kek_audit_last_verified_timestamp_seconds", value: verified.timeIntervalSince1970.rounded())
        }
    }

    private static func renderWorkers(_ report: StatusReport, into out: inout PrometheusExposition) throws {
        try out.family("kek_workers_seen", type: .gauge,
                       help: "Workers not stopped with a heartbeat in the last 30 seconds.")
        try out.sample("kek_workers_seen", value: Double(report.workers.filter(\.alive).count))
        try out.family("kek_worker_heartbeat_age_seconds", type: .gauge,
                       help: "Seconds since each worker that has not stopped last beat; a worker gone for an hour drops out.")
        for worker in report.workers where worker.stoppedAt == nil && worker.heartbeatAgeSeconds < heartbeatHorizon {
            try out.sample("kek_worker_heartbeat_age_seconds", labels: [("worker", worker.id)], value: worker.heartbeatAgeSeconds)
        }
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

    /// Keeps the worker label set to the workers of the last hour.
    static let heartbeatHorizon: Double = 3600

    private static func renderJobs(_ report: StatusReport, into out: inout PrometheusExposition) throws {
        try out.family("kek_jobs", type: .gauge, help: "Jobs in the jobs table per kind and state (finished jobs until pruned).")
        for cell in report.queue.counts {
            try out.sample("kek_jobs", labels: [("kind", cell.kind), ("state", cell.state.rawValue)], value: Double(cell.count))
        }
        try out.family("kek_queue_oldest_queued_age_seconds", type: .gauge,
                       help: "Age of the oldest runnable job no worker has claimed; 0 when none waits.")
        try out.sample("kek_queue_oldest_queued_age_seconds", value: report.queue.oldestQueuedAgeSeconds ?? 0)
        try renderActiveJobs(report.jobs.filter { !$0.state.isFinished }, into: &out)
    }

    /// Progress of the active top-level jobs, per kind (a kind runs one at a time when it has a
    /// unique key, like rotate_kek): the least advanced job's ratio, the summed rate, the longest ETA.
    private static func renderActiveJobs(_ active: [JobStatus], into out: inout PrometheusExposition) throws {
        let byKind = Dictionary(grouping: active, by: \.kind).sorted { $0.key < $1.key }
        try out.family("kek_job_progress_ratio", type: .gauge, help: "Done over total of the least advanced active job of each kind.")
        for (kind, jobs) in byKind {
            guard let ratio = jobs.compactMap(\.progressRatio).min() else { continue }
            try out.sample("kek_job_progress_ratio", labels: [("kind", kind)], value: ratio)
        }
        try out.family("kek_job_rows_per_second", type: .gauge, help: "Rate of the active jobs of each kind over the last 10 seconds (rows per second, summed).")
        for (kind, jobs) in byKind {
            let rates = jobs.compactMap(\.rowsPerSecond)
            guard !rates.isEmpty else { continue }
            try out.sample("kek_job_rows_per_second", labels: [("kind", kind)], value: rates.reduce(0, +))
        }
        try out.family("kek_job_eta_seconds", type: .gauge, help: "Longest estimated time left among the active jobs of each kind.")
        for (kind, jobs) in byKind {
            guard let eta = jobs.compactMap(\.etaSeconds).max() else { continue }
            try out.sample("kek_job_eta_seconds", labels: [("kind", kind)], value: eta.rounded())
        }
    }
}
