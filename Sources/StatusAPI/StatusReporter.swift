import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// Builds `StatusReport`s from the database: the one report builder behind the HTTP
/// endpoints and `kek status`.
///
/// Every read runs in one short `REPEATABLE READ READ ONLY` transaction under a
/// `statement_timeout`, so a report is a consistent picture and a slow database makes a
/// refresh fail fast instead of piling up. Not thread-safe (it owns a connection): one
/// reporter per thread. Jobs' state, progress, rate and ETA come from
/// `JobQueue.progress` (the one definition every view uses), read in the same transaction.
public final class StatusReporter {
    public let connection: PostgresConnection
    public let schedules: [JobSchedule]
    public let expectedSchemaVersion: Int?
    /// Per-statement limit for status reads; status must never hold the database up.
    public let statementTimeoutMilliseconds: Int
    /// How many finished top-level jobs the report lists after the active ones.
    public var recentJobs = 10

    public init(connection: PostgresConnection, schedules: [JobSchedule] = [], expectedSchemaVersion: Int? = nil,
                statementTimeoutMilliseconds: Int = 2000) {
        self.connection = connection
        self.schedules = schedules
        self.expectedSchemaVersion = expectedSchemaVersion
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
    }

    /// The migration version of the database; the cheap liveness read behind `/readyz`.
    public func schemaVersion() throws -> Int {
        try connection.transaction(settings: limits) {
            try SchemaMigrator.currentVersion(connection)
        }
    }

    /// Reads everything and assembles the report.
    ///
    /// First folds the DEK-count deltas written since the last refresh (`DEKCounts.fold`, its
    /// own short transaction), so the counts read below cost one row per KEK plus what one
    /// refresh interval adds, never a scan over the DEKs.
    public func report() throws -> StatusReport {
        try foldDEKCounts()
        let now = Date()
        let read = try connection.transaction(.readOnlySnapshot, settings: limits) {
            let queue = JobQueue(connection: connection)
            let jobs = try queue.topLevelJobs(activeLimit: 100, recentLimit: recentJobs)
            return (
                version: try SchemaMigrator.currentVersion(connection),
                wrapLimit: try KEKPolicy.wrapLimit(connection),
                keks: try KEKStore(connection: connection, actor: "status").list(),
                recordedRoots: try RootKeyIdentities.recordedIDs(connection),
                jobs: jobs,
                progress: try queue.progress(jobs.map(\.id)),
                queue: try StatusQueries.queue(queue),
                workers: try queue.workers(limit: 100),
                history: try StatusQueries.rotationHistory(connection),
                occurrences: try queue.lastOccurrences(schedules: NextRotation.intervalScheduleNames(schedules)))
        }
        let limit = read.wrapLimit
        let jobs = read.jobs.map { job(from: $0, progress: read.progress[$0.id]) }
        let inFlight = jobs.filter { $0.kind == KeyJobKinds.rotation && !$0.state.isFinished }.reduce(Int64(0)) { $0 + $1.done }
        let next = NextRotation.estimate(schedules: schedules, activeKEKActivatedAt: read.history.activeKEKActivatedAt,
                                         lastOccurrences: read.occurrences, now: now)
        return StatusReport(
            generatedAt: now, schemaVersion: read.version, expectedSchemaVersion: expectedSchemaVersion, wrapLimit: limit,
            keks: read.keks.map {
                KEKStatus(id: $0.id, state: $0.state, rootKeyId: $0.rootKeyID, createdAt: $0.createdAt,
                          activatedAt: $0.activatedAt, retiredAt: $0.retiredAt, destroyAfter: $0.destroyAfter,
                          destroyedAt: $0.destroyedAt, dekCount: $0.dekCount, dekCountAsOf: $0.dekCountAsOf,
                          dekCountSource: $0.dekCountSource, wrapCount: $0.wrapCount, wrapLimit: limit,
                          wrapHeadroom: limit - $0.wrapCount, rootKeyRecorded: read.recordedRoots.contains($0.rootKeyID))
            },
            jobs: jobs, queue: read.queue, workers: read.workers,
            rotation: RotationStatus(
                activeKekId: read.history.activeKEKID, activeKekAgeSeconds: read.history.activeKEKAgeSeconds,
                lastFinishedAt: read.history.lastFinishedAt, lastJobId: read.history.lastJobID,
                lastRowsPerSecond: read.history.lastRowsPerSecond,
                rowsRewrappedTotal: read.history.rewrappedOnRecord + inFlight,
                nextDueAt: next.dueAt, nextSchedule: next.schedule, nextBasis: next.basis))
    }

    /// A login that may read but not fold (no EXECUTE on kek_fold_dek_counts) still gets
    /// exact counts; its reads just include the unfolded deltas.
    private func foldDEKCounts() throws {
        do {
            try connection.transaction(settings: limits) { try DEKCounts.fold(connection) }
        } catch let error as PostgresError where error.sqlState == .insufficientPrivilege {
            return
        }
    }

    /// Status reads wait neither on slow statements nor on locks (transaction-local).
    var limits: [String: String] {
        ["statement_timeout": "\(statementTimeoutMilliseconds)ms", "lock_timeout": "\(statementTimeoutMilliseconds)ms"]
    }

    private func job(from row: TopLevelJob, progress: JobProgressSummary?) -> JobStatus {
        JobStatus(
            id: row.id, kind: row.kind, state: progress?.state ?? row.state, desiredState: row.desiredState,
            attempt: row.attempt, maxAttempts: row.maxAttempts, done: progress?.done ?? row.progressDone, total: row.progressTotal,
            progressRatio: progress?.ratio, rowsPerSecond: progress?.rate, etaSeconds: progress?.etaSeconds,
            lastError: row.lastError.map(PublicText.scrub), leaseOwner: row.leaseOwner, leaseExpiresAt: row.leaseExpiresAt,
            createdAt: row.createdAt, startedAt: row.startedAt, finishedAt: row.finishedAt,
            parts: row.parts)
    }
}
