import Foundation
import HTTPTestSupport
import JobQueue
import KeyManagement
import PostgresClient
@testable import StatusAPI
import TestSupport
import XCTest

/// The server in process, driven with curl: codes, content types, the token, the audit row.
final class StatusServerTests: XCTestCase {
    func testReadEndpointsAnswerWithTheirContentTypes() throws {
        let fixture = try StatusFixture()
        try fixture.seed(50)
        let (server, base) = try StatusFixture.start(try fixture.configuration())
        defer { server.stop() }

        let health = try Curl.request(base + "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.contentType, "text/plain; charset=utf-8")
        let ready = try Curl.request(base + "/readyz")
        XCTAssertEqual(ready.status, 200, ready.text)
        for path in ["/status", "/api/v1/kek/status"] {
            let status = try Curl.request(base + path)
            XCTAssertEqual(status.status, 200, status.text)
            XCTAssertEqual(status.contentType, "application/json")
            XCTAssertEqual(status.headers["cache-control"], "no-store")
            let report = try JSONCodec.decode(StatusReport.self, from: status.body)
            XCTAssertEqual(report.keks.first?.dekCount, 50)
        }
        let metrics = try Curl.request(base + "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(metrics.text.contains("kek_deks{kek_id=\"1\",state=\"active\"} 50\n"), metrics.text)
        let openapi = try Curl.request(base + "/openapi.json")
        XCTAssertEqual(openapi.status, 200)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: openapi.body) as? [String: Any])
        XCTAssertEqual(try Curl.request(base + "/status", method: "HEAD").status, 200)
        XCTAssertEqual(try Curl.request(base + "/status", method: "DELETE").status, 405)
        XCTAssertEqual(try Curl.request(base + "/nope").status, 404)
        // Off without a token: the control endpoint does not exist.
        XCTAssertEqual(try Curl.request(base + "/api/v1/kek/rotate", method: "POST").status, 404)
    }

    func testMetricsPassPromtool() throws {
        let fixture = try StatusFixture()
        try fixture.seed(20)
        try fixture.connection.transaction {
            try AuditLog.append(fixture.connection, actor: "test", action: .rotationFinished, target: "kek:1",
                                details: ["job_id": .int(1), "rewrapped": .int(20)])
        }
        try JobQueue(connection: fixture.connection).enqueue(KeyJobKinds.rotationRequest(RotationArguments()))
        let (server, base) = try StatusFixture.start(try fixture.configuration())
        defer { server.stop() }
        let metrics = try Curl.request(base + "/metrics")
        let check = try ExternalTool.promtoolCheck(metrics.text)
        XCTAssertEqual(check.status, 0, check.output + "\n" + metrics.text)
        XCTAssertTrue(metrics.text.contains("kek_rows_rewrapped_total 20\n"), metrics.text)
        XCTAssertTrue(metrics.text.contains("kek_kek_wrap_limit "), metrics.text)
        XCTAssertTrue(metrics.text.contains("kek_last_rotation_timestamp_seconds "), metrics.text)
        XCTAssertTrue(metrics.text.contains("kek_jobs{kind=\"rotate_kek\",state=\"queued\"} 1\n"), metrics.text)
    }

    func testRotateNeedsTheTokenAndRefusalsAreAudited() throws {
        let fixture = try StatusFixture()
        let token = "tok-\(UUID().uuidString)"
        let (server, base) = try StatusFixture.start(try fixture.configuration(token: token))
        defer { server.stop() }
        let url = base + "/api/v1/kek/rotate"

        let missing = try Curl.request(url, method: "POST")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.contentType, "application/json")
        XCTAssertEqual(missing.headers["www-authenticate"], #"Bearer realm="kek""#)
        let wrong = try Curl.request(url, method: "POST", headers: ["Authorization: Bearer \(token)x"])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertFalse(wrong.text.contains(token))
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 0)
        let audit = try fixture.connection.query(
            "SELECT target, details::text FROM audit_log WHERE action = 'status.unauthorized' ORDER BY id")
        XCTAssertEqual(audit.count, 2)
        XCTAssertEqual(try audit[0].decode(0, as: String.self), "/api/v1/kek/rotate")
        XCTAssertTrue(try audit[0].decode(1, as: String.self).contains("\"missing\""))
        XCTAssertTrue(try audit[1].decode(1, as: String.self).contains("\"wrong\""))
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM audit_log WHERE details::text LIKE $1", ["%\(token)%"]), 0,
                       "the presented token is never recorded")

        let bad = try Curl.request(url, method: "POST", headers: ["Authorization: Bearer \(token)"], body: #"{"batch_size": 0}"#)
        XCTAssertEqual(bad.status, 400, bad.text)
        let created = try Curl.request(url, method: "POST", headers: ["Authorization: Bearer \(token)", "Content-Type: application/json"],
                                       body: #"{"batch_size": 500, "parts": 2}"#)
        XCTAssertEqual(created.status, 202, created.text)
        XCTAssertEqual(created.contentType, "application/json")
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: created.body) as? [String: Any])
        XCTAssertEqual(first["created"] as? Bool, true)
        let jobID = try XCTUnwrap(first["job_id"] as? Int)
        let row = try fixture.connection.query("SELECT kind, unique_key, args->>'batch_size', max_attempts FROM jobs WHERE id = $1", [jobID])
        XCTAssertEqual(try row[0].decode(0, as: String.self), KeyJobKinds.rotation)
        XCTAssertEqual(try row[0].decode(1, as: String.self), KeyJobKinds.rotationUniqueKey)
        XCTAssertEqual(try row[0].decode(2, as: String.self), "500")
        XCTAssertEqual(try row[0].decode(3, as: Int.self), 10)
        let again = try Curl.request(url, method: "POST", headers: ["Authorization: Bearer \(token)"])
        XCTAssertEqual(again.status, 202)
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: again.body) as? [String: Any])
        XCTAssertEqual(second["created"] as? Bool, false)
        XCTAssertEqual(second["job_id"] as? Int, jobID)
        // Reads stay open without --require-token.
        XCTAssertEqual(try Curl.request(base + "/status").status, 200)
    }

    func testRequireTokenGuardsEveryReadButHealthz() throws {
        let fixture = try StatusFixture()
        let token = "tok-\(UUID().uuidString)"
        let (server, base) = try StatusFixture.start(try fixture.configuration(token: token, requireToken: true))
        defer { server.stop() }
        XCTAssertEqual(try Curl.request(base + "/healthz").status, 200)
        for path in ["/readyz", "/status", "/api/v1/kek/status", "/metrics", "/openapi.json"] {
            XCTAssertEqual(try Curl.request(base + path).status, 401, path)
            XCTAssertEqual(try Curl.request(base + path, headers: ["Authorization: Bearer \(token)"]).status, 200, path)
        }
    }

    /// Refusals are all counted but only a bounded number of rows is written per window.
    func testRefusalAuditRowsAreBounded() throws {
        let fixture = try StatusFixture()
        let audit = RefusalAudit(database: SharedConnection(url: fixture.url, statementTimeoutMilliseconds: 2000),
                                 actor: "test", limit: 3, window: 3600)
        for _ in 0..<10 { audit.record(method: "GET", path: "/status", refusal: .wrong) }
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM audit_log WHERE action = 'status.unauthorized'"), 3)
    }

    func testReadyzFollowsTheSchemaAndTheDatabase() throws {
        let fixture = try StatusFixture()
        var ahead = try fixture.configuration()
        ahead.expectedSchemaVersion = try StatusFixture.latestSchemaVersion + 1
        let (server, base) = try StatusFixture.start(ahead)
        defer { server.stop() }
        let notReady = try Curl.request(base + "/readyz")
        XCTAssertEqual(notReady.status, 503)
        XCTAssertTrue(notReady.text.contains("expected"), notReady.text)

        // A database that does not answer: up, not ready, no report.
        let unused = try TestDatabase.fresh().replacingOccurrences(of: "dbname=", with: "connect_timeout=1 dbname=nonexistent_")
        var down = StatusConfiguration(databaseURL: unused)
        down.refreshInterval = 0.2
        let (downServer, downBase) = try StatusFixture.start(down)
        defer { downServer.stop() }
        XCTAssertEqual(try Curl.request(downBase + "/healthz").status, 200)
        XCTAssertEqual(try Curl.request(downBase + "/readyz").status, 503)
        let status = try Curl.request(downBase + "/status")
        XCTAssertEqual(status.status, 503)
        XCTAssertEqual(status.contentType, "application/json")
    }
}
