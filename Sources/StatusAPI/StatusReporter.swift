import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// Builds `StatusReport`s from the database: the one report builder behind the HTTP
/// endpoints and `kek status`.
///
/// Every read runs in one short `REPEATABLE READ READ ONLY` transaction under a
/// `statement_timeout`, so a report is a consistent picture and a slow database makes a
/// refresh fail fast instead of piling up. Not thread-safe (it owns a connection and the
/// rate history): one reporter per thread, kept across refreshes so rates cover a minute.
public final class StatusReporter {
    public let connection: PostgresConnection
    public let schedules: [JobSchedule]
    public let expectedSchemaVersion: Int?
    /// Per-statement limit for status reads; status must never hold the database up.
    public let statementTimeoutMilliseconds: Int
    /// How many finished top-level jobs the report lists after the active ones.
    public var recentJobs = 10
    private var history = RateHistory()

    public init(connection: PostgresConnection, schedules: [JobSchedule] = [], expectedSchemaVersion: Int? = nil,
                statementTimeoutMilliseconds: Int = 2000) {
        self.connection = connection
        self.schedules = schedules
        self.expectedSchemaVersion = expectedSchemaVersion
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
    }

    /// The migration version of the database; the cheap liveness read behind `/readyz`.
    public func schemaVersion() throws -> Int {
        try connection.transaction {
            try limitStatements()
            return try SchemaMigrator.currentVersion(connection)
        }
    }

    /// Reads everything and assembles the report.
    public func report() throws -> StatusReport {
        let now = Date()
        let read = try connection.transaction(.readOnlySnapshot) {
            try limitStatements()
            return (
                version: try SchemaMigrator.currentVersion(connection),
                keks: try KEKStore(connection: connection, actor: "status").list(),
                jobs: try StatusQueries.jobs(connection, activeLimit: 100, recentLimit: recentJobs),
                queue: try StatusQueries.queue(connection),
                workers: try StatusQueries.workers(connection, limit: 100),
                history: try StatusQueries.rotationHistory(connection),
                occurrences: try StatusQueries.lastOccurrences(connection, schedules: NextRotation.intervalScheduleNames(schedules)))
        }
        let limit = KEKPolicy.wrapLimit
        let jobs = read.jobs.map { job(from: $0, now: now) }
        history.retain(only: Set(jobs.map(\.id)))
        let inFlight = jobs.filter { $0.kind == KeyJobKinds.rotation && !isFinished($0.state) }.reduce(Int64(0)) { $0 + $1.done }
        let next = NextRotation.estimate(schedules: schedules, activeKEKActivatedAt: read.history.activeKEKActivatedAt,
                                         lastOccurrences: read.occurrences, now: now)
        return StatusReport(
            generatedAt: now, schemaVersion: read.version, expectedSchemaVersion: expectedSchemaVersion, wrapLimit: limit,
            keks: read.keks.map {
                KEKStatus(id: $0.id, state: $0.state.rawValue, rootKeyId: $0.rootKeyID, createdAt: $0.createdAt,
                          activatedAt: $0.activatedAt, retiredAt: $0.retiredAt, destroyAfter: $0.destroyAfter,
                          destroyedAt: $0.destroyedAt, dekCount: $0.dekCount, wrapCount: $0.wrapCount, wrapLimit: limit,
                          wrapHeadroom: limit - $0.wrapCount)
            },
            jobs: jobs, queue: read.queue, workers: read.workers,
            rotation: RotationStatus(
                activeKekId: read.history.activeKEKID, activeKekAgeSeconds: read.history.activeKEKAgeSeconds,
                lastFinishedAt: read.history.lastFinishedAt, lastJobId: read.history.lastJobID,
                lastRowsPerSecond: read.history.lastRowsPerSecond,
                rowsRewrappedTotal: read.history.rewrappedOnRecord + inFlight,
                nextDueAt: next.dueAt, nextSchedule: next.schedule, nextBasis: next.basis))
    }

    private func limitStatements() throws {
        try connection.execute("SELECT set_config('statement_timeout', $1, true)", ["\(statementTimeoutMilliseconds)ms"])
        try connection.execute("SELECT set_config('lock_timeout', $1, true)", ["\(statementTimeoutMilliseconds)ms"])
    }

    private func isFinished(_ state: String) -> Bool {
        JobState(rawValue: state)?.isFinished ?? false
    }

    private func job(from row: StatusQueries.JobRow, now: Date) -> JobStatus {
        let done = max(row.progressDone, row.parts?.done ?? 0)
        let finished = isFinished(row.state)
        var rate: Double?
        if finished {
            if let started = row.startedAt, let ended = row.finishedAt, ended > started {
                rate = Double(done) / ended.timeIntervalSince(started)
            }
        } else {
            let measured = history.record(job: row.id, done: done, at: now)
            rate = measured ?? (row.parts != nil ? row.partsRate ?? row.rate : row.rate)
        }
        var eta: Double?
        if !finished, let total = row.progressTotal, let rate, rate > 0 {
            eta = Double(max(0, total - done)) / rate
        }
        let ratio = row.progressTotal.map { $0 > 0 ? min(1, Double(done) / Double($0)) : (finished ? 1 : 0) }
        return JobStatus(
            id: row.id, kind: row.kind, state: row.state, desiredState: row.desiredState, attempt: row.attempt,
            maxAttempts: row.maxAttempts, done: done, total: row.progressTotal, progressRatio: ratio, rowsPerSecond: rate,
            etaSeconds: eta, lastError: row.lastError.map(PublicText.scrub), leaseOwner: row.leaseOwner, leaseExpiresAt: row.leaseExpiresAt,
            createdAt: row.createdAt, startedAt: row.startedAt, finishedAt: row.finishedAt, parts: row.parts)
    }
}
