import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// The read-only statements behind a status report that are not the queue's (the jobs
/// tables are read through `JobQueue`). Each is parameterized, touches indexed or small
/// tables, and runs inside the reporter's read-only transaction.
enum StatusQueries {
    /// Jobs per (kind, state), and the age of the oldest runnable queued job.
    static func queue(_ queue: JobQueue) throws -> QueueStatus {
        QueueStatus(counts: try queue.countsByKindAndState().map { JobCount(kind: $0.kind, state: $0.state, count: $0.count) },
                    oldestQueuedAgeSeconds: try queue.oldestRunnableQueuedAgeSeconds())
    }

    /// What the audit log and the jobs table say about past rotations.
    struct RotationHistory {
        var lastFinishedAt: Date?
        var lastJobID: Int64?
        var lastRowsPerSecond: Double?
        /// `rewrapped` summed over every `rotation.finished` and `rotation.failed` row.
        var rewrappedOnRecord: Int64
        var activeKEKID: Int32?
        var activeKEKActivatedAt: Date?
        var activeKEKAgeSeconds: Double?
    }

    static func rotationHistory(_ connection: PostgresConnection) throws -> RotationHistory {
        let lastJob = try JobQueue(connection: connection).lastCompleted(kind: KeyJobKinds.rotation)
        let row = try connection.query("""
            WITH last_audit AS (
                SELECT at, details FROM audit_log WHERE action = $1 ORDER BY at DESC LIMIT 1),
            active AS (
                SELECT id, activated_at FROM keks WHERE state = 'active')
            SELECT greatest((SELECT at FROM last_audit), $3::timestamptz),
                   coalesce(CASE WHEN jsonb_typeof((SELECT details FROM last_audit)->'job_id') = 'number'
                                 THEN ((SELECT details FROM last_audit)->>'job_id')::int8 END,
                            $4::int8),
                   CASE WHEN jsonb_typeof((SELECT details FROM last_audit)->'rows_per_second') = 'number'
                        THEN ((SELECT details FROM last_audit)->>'rows_per_second')::float8 END,
                   (SELECT coalesce(sum(CASE WHEN jsonb_typeof(details->'rewrapped') = 'number'
                                             THEN (details->>'rewrapped')::numeric ELSE 0 END), 0)::int8
                      FROM audit_log WHERE action = ANY($2::text[])),
                   (SELECT id FROM active), (SELECT activated_at FROM active),
                   (SELECT extract(epoch FROM now() - activated_at)::float8 FROM active)
            """, [AuditAction.rotationFinished.rawValue,
                  PostgresArray([AuditAction.rotationFinished.rawValue, AuditAction.rotationFailed.rawValue]),
                  lastJob?.finishedAt, lastJob?.id])[0]
        return RotationHistory(
            lastFinishedAt: try row.decode(0), lastJobID: try row.decode(1), lastRowsPerSecond: try row.decode(2),
            rewrappedOnRecord: try row.decode(3), activeKEKID: try row.decode(4), activeKEKActivatedAt: try row.decode(5),
            activeKEKAgeSeconds: try row.decode(6))
    }
}
