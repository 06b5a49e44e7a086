import Foundation
@testable import JobQueue
import KeyManagement
@testable import StatusAPI
import XCTest

/// The status documents' bytes are a contract (dashboards, `kek status --json`, scripts read
/// them): a fixed report must encode to fixed bytes, whatever encoder produces them. The bytes
/// were captured from the old StatusJSON encoder; since, only the keys `dek_count_as_of` and
/// `dek_count_source` were added (issue #19).
final class StatusJSONBytesTests: XCTestCase {
    static let at = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    static var report: StatusReport {
        StatusReport(
            generatedAt: at, schemaVersion: 100, expectedSchemaVersion: nil, wrapLimit: 1_073_741_824,
            keks: [KEKStatus(id: 2, state: .decryptOnly, rootKeyId: "r1", createdAt: at, activatedAt: at, retiredAt: nil,
                             destroyAfter: nil, destroyedAt: nil, dekCount: 1_000, dekCountAsOf: at, dekCountSource: .maintained,
                             wrapCount: 1_200, wrapLimit: 1_073_741_824,
                             wrapHeadroom: 1_073_740_624, rootKeyRecorded: true)],
            jobs: [JobStatus(id: 7, kind: "rotate_kek", state: .running, desiredState: nil, attempt: 1, maxAttempts: 5, done: 250,
                             total: 1_000, progressRatio: 0.25, rowsPerSecond: 50, etaSeconds: 15, lastError: nil,
                             leaseOwner: "w-1", leaseExpiresAt: at, createdAt: at, startedAt: at, finishedAt: nil,
                             parts: JobPartCounts(count: 2, done: 250, queued: 1, running: 1, paused: 0, completed: 0,
                                                  failed: 0, cancelled: 0))],
            queue: QueueStatus(counts: [JobCount(kind: "rewrap_part", state: .queued, count: 1)], oldestQueuedAgeSeconds: 1.5),
            workers: [WorkerHeartbeat(id: "w-1", host: "h", pid: 42, concurrency: 2, startedAt: at, lastHeartbeatAt: at,
                                      stoppedAt: nil, heartbeatAgeSeconds: 0.5, alive: true)],
            rotation: RotationStatus(activeKekId: 3, activeKekAgeSeconds: 60, lastFinishedAt: nil, lastJobId: nil,
                                     lastRowsPerSecond: nil, rowsRewrappedTotal: 250, nextDueAt: at, nextSchedule: "monthly",
                                     nextBasis: "schedule monthly"))
    }

    static let expected = #"{"expected_schema_version":null,"generated_at":"2026-01-01T00:00:00Z","jobs":[{"attempt":1,"created_at":"2026-01-01T00:00:00Z","desired_state":null,"done":250,"eta_seconds":15,"finished_at":null,"id":7,"kind":"rotate_kek","last_error":null,"lease_expires_at":"2026-01-01T00:00:00Z","lease_owner":"w-1","max_attempts":5,"parts":{"cancelled":0,"completed":0,"count":2,"done":250,"failed":0,"paused":0,"queued":1,"running":1},"progress_ratio":0.25,"rows_per_second":50,"started_at":"2026-01-01T00:00:00Z","state":"running","total":1000}],"keks":[{"activated_at":"2026-01-01T00:00:00Z","created_at":"2026-01-01T00:00:00Z","dek_count":1000,"dek_count_as_of":"2026-01-01T00:00:00Z","dek_count_source":"maintained","destroy_after":null,"destroyed_at":null,"id":2,"retired_at":null,"root_key_id":"r1","root_key_recorded":true,"state":"decrypt_only","wrap_count":1200,"wrap_headroom":1073740624,"wrap_limit":1073741824}],"queue":{"counts":[{"count":1,"kind":"rewrap_part","state":"queued"}],"oldest_queued_age_seconds":1.5},"rotation":{"active_kek_age_seconds":60,"active_kek_id":3,"last_finished_at":null,"last_job_id":null,"last_rows_per_second":null,"next_basis":"schedule monthly","next_due_at":"2026-01-01T00:00:00Z","next_schedule":"monthly","rows_rewrapped_total":250},"schema_version":100,"workers":[{"alive":true,"concurrency":2,"heartbeat_age_seconds":0.5,"host":"h","id":"w-1","last_heartbeat_at":"2026-01-01T00:00:00Z","pid":42,"started_at":"2026-01-01T00:00:00Z","stopped_at":null}],"wrap_limit":1073741824}"#

    func testAFixedReportEncodesToFixedBytes() throws {
        let bytes = String(decoding: try JSONCodec.encodeBytes(Self.report), as: UTF8.self)
        XCTAssertEqual(bytes, Self.expected)
    }

    /// The rotation endpoint's reply and every JSON refusal keep their bytes too.
    func testRotationReplyAndErrorBodyEncodeToFixedBytes() throws {
        XCTAssertEqual(try JSONCodec.encode(RotationEndpoint.Reply(jobId: 7, created: true)), #"{"created":true,"job_id":7}"#)
        XCTAssertEqual(String(decoding: ErrorBody.response(.badRequest, "no").body, as: UTF8.self), #"{"error":"no"}"#)
    }
}
