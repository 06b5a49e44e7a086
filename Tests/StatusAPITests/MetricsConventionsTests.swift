import Foundation
import HTTPTestSupport
import JobQueue
import PostgresClient
@testable import StatusAPI
import TestSupport
import XCTest

/// Prometheus conventions of `/metrics`: counters that pruning does not lower, bounded labels,
/// and a scrape that still answers when the database does not.
final class MetricsConventionsTests: XCTestCase {
    private func counter(_ kind: String, _ connection: PostgresConnection) throws -> JobCounter? {
        try JobCounter.read(connection).first { $0.kind == kind }
    }

    func testCountersSurvivePruningAndRetriesNeverGoDown() throws {
        let fixture = try StatusFixture()
        let db = fixture.connection
        let queue = JobQueue(connection: db)
        for _ in 0..<3 { _ = try queue.enqueue(JobRequest(kind: "noop", argumentsJSON: "{}")) }
        // One job failed after two retries, one completed after one retry having done 40 rows,
        // one queued again after a lost lease: 2 + 1 + 1 retries.
        try db.execute("""
            UPDATE jobs SET state = 'failed', attempt = 3, finished_at = now()
             WHERE id = (SELECT min(id) FROM jobs)
            """)
        try db.execute("""
            UPDATE jobs SET state = 'completed', attempt = 2, progress_done = 40, finished_at = now()
             WHERE id = (SELECT min(id) + 1 FROM jobs)
            """)
        try db.execute("UPDATE jobs SET attempt = 1 WHERE id = (SELECT max(id) FROM jobs)")
        let before = try XCTUnwrap(try counter("noop", db))
        XCTAssertEqual(before, JobCounter(kind: "noop", jobs: 3, failed: 1, retries: 4, progress: 40))

        // A claim of the queued job: attempt 2, running; its retries stay 1.
        try db.execute("""
            UPDATE jobs SET state = 'running', attempt = 2, lease_token = gen_random_uuid() WHERE id = (SELECT max(id) FROM jobs)
            """)
        XCTAssertEqual(try counter("noop", db)?.retries, 4)

        try db.execute("DELETE FROM jobs WHERE state IN ('completed', 'failed')")
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 1)
        XCTAssertEqual(try counter("noop", db), before, "pruning moves the totals into the archive; they do not drop")

        let reporter = StatusReporter(connection: db)
        let text = try StatusMetrics.render(try reporter.report(), counters: try reporter.counters())
        XCTAssertTrue(text.contains("kek_job_failures_total{kind=\"noop\"} 1\n"), text)
        XCTAssertTrue(text.contains("kek_job_retries_total{kind=\"noop\"} 4\n"), text)
        XCTAssertTrue(text.contains("kek_job_rows_processed_total{kind=\"noop\"} 40\n"), text)
        XCTAssertFalse(text.contains("job_id="), "job ids are not labels: \(text)")
        let check = try ExternalTool.promtoolCheck(text)
        XCTAssertEqual(check.status, 0, check.output)
    }

    func testScrapeAnswersWithRefreshFailureWhenTheDatabaseDoesNot() throws {
        let fixture = try StatusFixture()
        var configuration = try fixture.configuration()
        configuration.databaseURL = fixture.url.replacingOccurrences(of: "dbname=", with: "dbname=missing_")
        configuration.version = "9.9.9"
        let (server, base) = try StatusFixture.start(configuration)
        defer { server.stop() }
        let metrics = try Curl.request(base + "/metrics")
        XCTAssertEqual(metrics.status, 200, metrics.text)
        XCTAssertTrue(metrics.text.contains("kek_status_refresh_success 0\n"), metrics.text)
        XCTAssertTrue(metrics.text.contains("kek_build_info{version=\"9.9.9\",schema_version=\""), metrics.text)
        XCTAssertFalse(metrics.text.contains("kek_deks"), metrics.text)
        XCTAssertEqual(try ExternalTool.promtoolCheck(metrics.text).status, 0)

        let (healthy, healthyBase) = try StatusFixture.start(try fixture.configuration())
        defer { healthy.stop() }
        let good = try Curl.request(healthyBase + "/metrics").text
        XCTAssertTrue(good.contains("kek_status_refresh_success 1\n"), good)
        XCTAssertTrue(good.contains("kek_status_last_refresh_timestamp_seconds "), good)
        XCTAssertTrue(good.contains("kek_deks{"), good)
    }
}
