import Foundation
import JobQueue
import KeyManagement
import PostgresClient
@testable import StatusAPI
import TestSupport
import XCTest

/// The report builder against a real database: the numbers it reports are the database's.
final class StatusReportTests: XCTestCase {
    func testInventoryJobsAndWorkersMatchTheDatabase() throws {
        let fixture = try StatusFixture()
        try fixture.seed(300)
        let job = try JobQueue(connection: fixture.connection).enqueue(KeyJobKinds.rotationRequest(RotationArguments(batchSize: 100)))
        try fixture.connection.execute("""
            INSERT INTO workers (id, host, pid, concurrency, last_heartbeat_at) VALUES
                ('w-alive', 'h', 1, 2, now()), ('w-gone', 'h', 2, 1, now() - interval '5 minutes')
            """)
        let report = try StatusReporter(connection: fixture.connection, expectedSchemaVersion: StatusFixture.latestSchemaVersion).report()

        XCTAssertEqual(report.schemaVersion, try StatusFixture.latestSchemaVersion)
        XCTAssertEqual(report.keks.count, 1)
        let kek = try XCTUnwrap(report.keks.first)
        XCTAssertEqual(kek.state, .active)
        XCTAssertEqual(kek.dekCount, 300)
        XCTAssertEqual(kek.dekCount, Int64(try fixture.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [kek.id])))
        XCTAssertEqual(kek.wrapCount, Int64(try fixture.count("SELECT kek_wraps($1)", [kek.id])))
        XCTAssertEqual(kek.wrapHeadroom, report.wrapLimit - kek.wrapCount)
        XCTAssertEqual(report.rotation.activeKekId, kek.id)

        let listed = try XCTUnwrap(report.jobs.first { $0.id == job.id })
        XCTAssertEqual(listed.kind, KeyJobKinds.rotation)
        XCTAssertEqual(listed.state, .queued)
        XCTAssertEqual(listed.done, 0)
        XCTAssertNil(listed.etaSeconds)
        XCTAssertEqual(report.queue.counts, [JobCount(kind: KeyJobKinds.rotation, state: .queued, count: 1)])

        XCTAssertEqual(Set(report.workers.map(\.id)), ["w-alive", "w-gone"])
        XCTAssertEqual(report.workers.first { $0.id == "w-alive" }?.alive, true)
        XCTAssertEqual(report.workers.first { $0.id == "w-gone" }?.alive, false)
        XCTAssertNil(report.rotation.lastFinishedAt)
        XCTAssertNil(report.rotation.nextDueAt)
        XCTAssertTrue(report.rotation.nextBasis.hasPrefix("unknown"), report.rotation.nextBasis)
    }

    /// A rotation's parts are summed into it; two checkpoints a second apart give a rate and an ETA.
    func testRotationPartsAreSummedWithRateAndETA() throws {
        let fixture = try StatusFixture()
        let queue = JobQueue(connection: fixture.connection)
        let parent = try queue.enqueue(KeyJobKinds.rotationRequest(RotationArguments()))
        try fixture.connection.execute("UPDATE jobs SET progress_total = 10000 WHERE id = $1", [parent.id])
        var parts: [Int64] = []
        for index in 0..<3 {
            parts.append(try queue.enqueue(JobRequest(kind: "rewrap_part", uniqueKey: "part:\(index)", parentID: parent.id)).id)
        }
        try fixture.connection.execute("UPDATE jobs SET progress_done = 1000 WHERE id = ANY($1::int8[])", [PostgresArray(parts)])
        try fixture.connection.execute("SELECT kek_job_sample($1)", [parts[0]])  // what a part's checkpoint records
        let reporter = StatusReporter(connection: fixture.connection)
        let first = try XCTUnwrap(try reporter.report().jobs.first { $0.id == parent.id })
        XCTAssertEqual(first.done, 3000)
        XCTAssertEqual(first.total, 10000)
        XCTAssertEqual(first.progressRatio, 0.3)
        XCTAssertEqual(first.parts?.count, 3)
        XCTAssertEqual(first.parts?.queued, 3)
        XCTAssertEqual(first.parts?.done, 3000)
        XCTAssertEqual(try reporter.report().jobs.count, 1, "parts are not listed as jobs of their own")

        Thread.sleep(forTimeInterval: 1.1)
        try fixture.connection.execute("UPDATE jobs SET progress_done = 2000 WHERE id = ANY($1::int8[])", [PostgresArray(parts)])
        try fixture.connection.execute("SELECT kek_job_sample($1)", [parts[1]])
        let second = try XCTUnwrap(try reporter.report().jobs.first { $0.id == parent.id })
        XCTAssertEqual(second.done, 6000)
        let rate = try XCTUnwrap(second.rowsPerSecond)
        XCTAssertGreaterThan(rate, 1000, "3000 rows in a little over a second")
        XCTAssertLessThan(rate, 3000)
        let eta = try XCTUnwrap(second.etaSeconds)
        XCTAssertEqual(eta, 4000 / rate, accuracy: 0.001)
    }

    func testLastRotationComesFromTheAuditLog() throws {
        let fixture = try StatusFixture()
        try fixture.connection.transaction {
            try AuditLog.append(fixture.connection, actor: "test", action: .rotationFinished, target: "kek:2",
                                details: ["job_id": .int(42), "rewrapped": .int(1234), "rows_per_second": .int(5000)])
        }
        let report = try StatusReporter(connection: fixture.connection).report()
        XCTAssertNotNil(report.rotation.lastFinishedAt)
        XCTAssertEqual(report.rotation.lastJobId, 42)
        XCTAssertEqual(report.rotation.lastRowsPerSecond, 5000)
        XCTAssertEqual(report.rotation.rowsRewrappedTotal, 1234)
    }

    func testNextRotationFromSchedules() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("schedules-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"kind": "rotate_kek", "when": {"active_kek_older_than": "90d"}, "check_every": "1h"}"#.utf8)
            .write(to: folder.appendingPathComponent("aged.json"))
        try Data(#"{"kind": "rotate_kek", "every": "30d"}"#.utf8).write(to: folder.appendingPathComponent("monthly.json"))
        try Data(#"{"kind": "noop", "every": "1h"}"#.utf8).write(to: folder.appendingPathComponent("noop.json"))
        let schedules = try JobSchedule.load(directory: folder.path)
        let activated = Date(timeIntervalSince1970: 1_700_000_000)
        let now = activated.addingTimeInterval(86_400)

        let aged = NextRotation.estimate(schedules: schedules.filter { $0.name == "aged" }, activeKEKActivatedAt: activated,
                                         lastOccurrences: [:], now: now)
        XCTAssertEqual(aged.dueAt, activated.addingTimeInterval(90 * 86_400))
        XCTAssertEqual(aged.schedule, "aged")
        // The earlier of the two: the monthly schedule last ran a day ago.
        let both = NextRotation.estimate(schedules: schedules, activeKEKActivatedAt: activated,
                                         lastOccurrences: ["monthly": now.addingTimeInterval(-86_400)], now: now)
        XCTAssertEqual(both.dueAt, now.addingTimeInterval(29 * 86_400))
        XCTAssertEqual(both.schedule, "monthly")
        let none = NextRotation.estimate(schedules: schedules.filter { $0.kind == "noop" }, activeKEKActivatedAt: activated,
                                         lastOccurrences: [:], now: now)
        XCTAssertNil(none.dueAt)

        // Through the reporter, against the database's activation time.
        let fixture = try StatusFixture()
        let report = try StatusReporter(connection: fixture.connection, schedules: schedules.filter { $0.name == "aged" }).report()
        let active = try XCTUnwrap(report.keks.first?.activatedAt)
        XCTAssertEqual(try XCTUnwrap(report.rotation.nextDueAt).timeIntervalSince(active), 90 * 86_400, accuracy: 1)
    }

    /// Absent values are written as null, not left out; keys are snake_case.
    func testJSONHasEveryKeyWithNulls() throws {
        let fixture = try StatusFixture()
        let report = try StatusReporter(connection: fixture.connection).report()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(JSONCodec.encodeBytes(report))) as? [String: Any])
        let rotation = try XCTUnwrap(object["rotation"] as? [String: Any])
        XCTAssertTrue(rotation.keys.contains("next_due_at"))
        XCTAssertTrue(rotation["next_due_at"] is NSNull)
        let kek = try XCTUnwrap((object["keks"] as? [[String: Any]])?.first)
        XCTAssertTrue(kek["retired_at"] is NSNull)
        XCTAssertNotNil(kek["root_key_id"] as? String)
        XCTAssertNotNil(kek["dek_count"])
        let decoded = try JSONCodec.decode(StatusReport.self, from: try JSONCodec.encodeBytes(report))
        XCTAssertEqual(decoded.keks.first?.id, report.keks.first?.id)
    }

    func testTokenComparison() throws {
        let token = try XCTUnwrap(BearerToken("s3cret-token"))
        XCTAssertNil(BearerToken(""))
        XCTAssertNil(token.check(authorization: "Bearer s3cret-token"))
        XCTAssertNil(token.check(authorization: "bearer s3cret-token"))
        XCTAssertEqual(token.check(authorization: nil), .missing)
        XCTAssertEqual(token.check(authorization: "Basic czNjcmV0"), .malformed)
        XCTAssertEqual(token.check(authorization: "Bearer s3cret-tokeN"), .wrong)
        XCTAssertEqual(token.check(authorization: "Bearer s3cret-token-and-more"), .wrong)
        XCTAssertEqual(token.check(authorization: "Bearer s3cret"), .wrong)
        XCTAssertEqual("\(token)", "<redacted>")
        XCTAssertFalse(String(reflecting: token).contains("s3cret"))
    }
}
