import Foundation
import HTTPTestSupport
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// The status endpoints of the real `kek` binary: inside `kek worker` during a rotation,
/// and as `kek serve` with the token, the CLI report and hostile clients.
final class StatusEndpointTests: XCTestCase {
    /// A migrated database with an active KEK and `secrets` synthetic secrets.
    private func seededDatabase(secrets: Int) throws -> (url: String, connection: PostgresConnection) {
        let url = try TestDatabase.migrated()
        let connection = try PostgresConnection(url)
        let rootKeys = try RootKeys.fromEnvironment(["KEK_ROOT_KEYS": TestRootKey.line])
        try KEKStore(connection: connection, actor: "test").generate(rootKeys: rootKeys, activate: true)
        if secrets > 0 {
            try SyntheticSecrets.seed(connection, keks: KEKCiphers(connection: connection, rootKeys: rootKeys),
                                      project: UUID(), count: secrets)
        }
        return (url, connection)
    }

    /// 20,000 DEKs rotated by `kek worker --concurrency 2` while /status is polled: done
    /// only grows and never passes the database, an ETA shows, then the job completes and
    /// the inventory, the last rotation and the counters match the database.
    func testRotationProgressOverHTTPMatchesTheDatabase() throws {
        let (url, connection) = try seededDatabase(secrets: 20_000)
        let kek = KekBinary(databaseURL: url, extra: ["KEK_ROOT_KEYS": TestRootKey.line])
        let (worker, log) = try kek.startLogged(
            ["worker", "--concurrency", "2", "--lease", "5s", "--no-schedules", "--status-listen", "127.0.0.1:0"], name: "status-worker")
        defer {
            kek.send(SIGTERM, to: worker)
            XCTAssertTrue(kek.waitForExit(worker, timeout: 30))
        }
        let (base, _) = try StatusServerProcess.waitForAddress(log: log, process: worker)
        // The worker's key-kinds gate opens once its keyring is proven, which can trail the
        // server's start on a loaded machine: poll (bounded) instead of asking once.
        let readyBy = Date().addingTimeInterval(20)
        while try Curl.request(base + "/readyz").status != 200, Date() < readyBy { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertEqual(try Curl.request(base + "/readyz").status, 200)

        // A rate cap stretches the rotation over several seconds so progress can be watched.
        let rotate = try kek.run(["rotate", "--batch-size", "500", "--max-rate", "4000", "--parts", "4"])
        XCTAssertEqual(rotate.status, 0, rotate.stderr)
        let jobID = try XCTUnwrap(Int64(rotate.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))

        var seen: [Int64] = []
        var sawETA = false
        var sawRate = false
        var checkedMetricsMidway = false
        var final: [String: Any]?
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let response = try Curl.request(base + "/status")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.contentType, "application/json")
            let dbDone: Int64 = try connection.query("""
                SELECT greatest(progress_done, coalesce((SELECT sum(progress_done) FROM jobs WHERE parent_id = $1), 0))::int8
                FROM jobs WHERE id = $1
                """, [jobID])[0].decode(0)
            let report = try response.jsonObject()
            // The snapshot is refreshed every second: the job shows up at the next refresh.
            guard let job = (report["jobs"] as? [[String: Any]])?.first(where: { ($0["id"] as? Int).map(Int64.init) == jobID }) else {
                Thread.sleep(forTimeInterval: 0.25)
                continue
            }
            let done = Int64(try XCTUnwrap(job["done"] as? Int))
            XCTAssertLessThanOrEqual(done, dbDone, "the report never runs ahead of the database")
            if let last = seen.last { XCTAssertGreaterThanOrEqual(done, last, "done only grows") }
            seen.append(done)
            if let total = job["total"] as? Int {
                XCTAssertEqual(total, 20_000)
                let dbTotal: Int64? = try connection.query("SELECT progress_total FROM jobs WHERE id = $1", [jobID])[0].decode(0)
                XCTAssertEqual(Int64(total), dbTotal)
            }
            // A rotation waits in `queued` between its checks on the parts, so "under way" is
            // any state that is not finished.
            if ["queued", "running"].contains(job["state"] as? String), job["started_at"] is String {
                if job["eta_seconds"] is Double || job["eta_seconds"] is Int { sawETA = true }
                if let rate = job["rows_per_second"] as? Double, rate > 0 { sawRate = true }
                if done > 0 && !checkedMetricsMidway {
                    let metrics = try Curl.request(base + "/metrics")
                    let check = try ExternalTool.promtoolCheck(metrics.text)
                    XCTAssertEqual(check.status, 0, check.output)
                    XCTAssertTrue(metrics.text.contains("kek_job_progress_ratio{kind=\"rotate_kek\"}"), metrics.text)
                    checkedMetricsMidway = true
                }
            }
            if job["state"] as? String == "completed" {
                final = report
                break
            }
            XCTAssertNotEqual(job["state"] as? String, "failed", "\(job)")
            Thread.sleep(forTimeInterval: 0.25)
        }
        let report = try XCTUnwrap(final, "rotation did not complete in time: \(seen.suffix(5)); worker log:\n"
            + ((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(3000))
        XCTAssertGreaterThanOrEqual(Set(seen.filter { $0 > 0 && $0 < 20_000 }).count, 2, "progress seen moving: \(seen)")
        XCTAssertTrue(sawETA, "an ETA while running")
        XCTAssertTrue(sawRate, "a rate while running")
        XCTAssertTrue(checkedMetricsMidway)

        let job = try XCTUnwrap((report["jobs"] as? [[String: Any]])?.first { ($0["id"] as? Int).map(Int64.init) == jobID })
        XCTAssertEqual(job["done"] as? Int, 20_000)
        XCTAssertTrue(job["eta_seconds"] is NSNull)
        let parts = try XCTUnwrap(job["parts"] as? [String: Any])
        XCTAssertEqual(parts["count"] as? Int, 4)
        XCTAssertEqual(parts["completed"] as? Int, 4)
        let keks = try XCTUnwrap(report["keks"] as? [[String: Any]])
        for row in try connection.query("""
            SELECT k.id, k.state, (SELECT count(*) FROM data_keys d WHERE d.kek_id = k.id)::int8, kek_wraps(k.id) FROM keks k
            """) {
            let id: Int32 = try row.decode(0)
            let listed = try XCTUnwrap(keks.first { $0["id"] as? Int == Int(id) })
            XCTAssertEqual(listed["state"] as? String, try row.decode(1, as: String.self))
            XCTAssertEqual((listed["dek_count"] as? Int).map(Int64.init), try row.decode(2, as: Int64.self))
            XCTAssertEqual((listed["wrap_count"] as? Int).map(Int64.init), try row.decode(3, as: Int64.self))
        }
        XCTAssertEqual(keks.first { $0["state"] as? String == "active" }?["dek_count"] as? Int, 20_000)
        let rotation = try XCTUnwrap(report["rotation"] as? [String: Any])
        XCTAssertEqual((rotation["last_job_id"] as? Int).map(Int64.init), jobID)
        XCTAssertTrue(rotation["last_finished_at"] is String)
        XCTAssertEqual(rotation["rows_rewrapped_total"] as? Int, 20_000)
        let workers = try XCTUnwrap(report["workers"] as? [[String: Any]])
        XCTAssertEqual(workers.first?["alive"] as? Bool, true)
        let metrics = try Curl.request(base + "/metrics").text
        XCTAssertTrue(metrics.contains("kek_rows_rewrapped_total 20000\n"), metrics)
        XCTAssertTrue(metrics.contains("kek_workers_seen 1\n"), metrics)
        XCTAssertTrue(metrics.contains("kek_last_rotation_timestamp_seconds "), metrics)
        XCTAssertFalse(try String(contentsOf: log, encoding: .utf8).contains("synthetic-value-"), "no secret value in the log")
    }

    /// `kek serve` with a token: every endpoint, the control endpoint shared with `kek rotate`,
    /// refusals audited without the token, and `kek status` (table, --json, --watch).
    func testServeAndStatusCommand() throws {
        let (url, connection) = try seededDatabase(secrets: 100)
        let token = "tok-\(UUID().uuidString)"
        let kek = KekBinary(databaseURL: url, extra: ["KEK_ROOT_KEYS": TestRootKey.line, "KEK_STATUS_TOKEN": token])
        let (serve, log) = try kek.startLogged(["serve", "--listen", "127.0.0.1:0", "--no-schedules"], name: "serve")
        defer {
            kek.send(SIGTERM, to: serve)
            XCTAssertTrue(kek.waitForExit(serve, timeout: 10))
            XCTAssertEqual(serve.terminationStatus, 0)
        }
        let (base, _) = try StatusServerProcess.waitForAddress(log: log, process: serve)
        let expectations: [(String, Int, String)] = [
            ("/healthz", 200, "text/plain"), ("/readyz", 200, "text/plain"), ("/status", 200, "application/json"),
            ("/api/v1/kek/status", 200, "application/json"), ("/metrics", 200, "text/plain; version=0.0.4"),
            ("/openapi.json", 200, "application/json"),
        ]
        for (path, code, type) in expectations {
            let response = try Curl.request(base + path)
            XCTAssertEqual(response.status, code, path)
            XCTAssertTrue(response.contentType.hasPrefix(type), "\(path): \(response.contentType)")
        }
        let check = try ExternalTool.promtoolCheck(try Curl.request(base + "/metrics").text)
        XCTAssertEqual(check.status, 0, check.output)

        let refused = try Curl.request(base + "/api/v1/kek/rotate", method: "POST", headers: ["Authorization: Bearer nope"])
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(try connection.query("SELECT count(*) FROM audit_log WHERE action = 'status.unauthorized'")[0].decode(0, as: Int.self), 1)
        XCTAssertEqual(try connection.query("SELECT count(*) FROM audit_log WHERE details::text LIKE '%nope%'")[0].decode(0, as: Int.self), 0)
        let accepted = try Curl.request(base + "/api/v1/kek/rotate", method: "POST", headers: ["Authorization: Bearer \(token)"])
        XCTAssertEqual(accepted.status, 202, accepted.text)
        let body = try accepted.jsonObject()
        XCTAssertEqual(body["created"] as? Bool, true)
        let jobID = try XCTUnwrap(body["job_id"] as? Int)
        XCTAssertEqual(try connection.query("""
            SELECT count(*) FROM audit_log WHERE action = 'rotation.requested' AND target = $1
               AND details->>'origin' = 'http POST /api/v1/kek/rotate' AND login = $2
               AND details->>'peer' LIKE '127.0.0.1:%'
            """, ["job:\(jobID)", TestLogins.worker])[0].decode(0, as: Int.self), 1,
            "the accepted request is audited with its origin and the connection's peer address")
        let cli = try kek.run(["rotate"])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        XCTAssertTrue(cli.stdout.contains("already queued or running: job \(jobID)"), "one rotation at a time: \(cli.stdout)")

        // kek status --json is the document of GET /status.
        Thread.sleep(forTimeInterval: 1.2)
        let served = try Curl.request(base + "/status").jsonObject()
        let printed = try kek.run(["status", "--json", "--no-schedules"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        let local = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(local.keys), Set(served.keys))
        XCTAssertEqual((local["keks"] as? [[String: Any]])?.map { $0["dek_count"] as? Int }, (served["keks"] as? [[String: Any]])?.map { $0["dek_count"] as? Int })
        XCTAssertEqual((local["jobs"] as? [[String: Any]])?.map { $0["id"] as? Int }, [jobID])
        let table = try kek.run(["status", "--no-schedules"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("KEKs"), table.stdout)
        XCTAssertTrue(table.stdout.contains("rotate_kek"), table.stdout)
        XCTAssertTrue(table.stdout.contains("next rotation: unknown"), table.stdout)
        let watch = try kek.run(["status", "--watch", "--count", "2", "--interval", "0.2s", "--no-schedules"])
        XCTAssertEqual(watch.status, 0, watch.stderr)
        XCTAssertEqual(watch.stdout.components(separatedBy: "KEKs (wrap limit").count - 1, 2, watch.stdout)
        for output in [printed.stdout, table.stdout, watch.stdout, try String(contentsOf: log, encoding: .utf8)] {
            XCTAssertFalse(output.contains(token), "the token never appears in output")
            XCTAssertFalse(output.contains("synthetic-value-"), "no secret value in output")
        }

        // --require-token without a token is a usage error.
        let noToken = try KekBinary(databaseURL: url).run(["serve", "--listen", "127.0.0.1:0", "--require-token"])
        XCTAssertEqual(noToken.status, 2, noToken.stderr)
    }

    /// Hostile input against `kek serve`: a 100 KB header, a request line without a version,
    /// a one-byte-a-second client, 500 idle connections and random bytes, while another
    /// client's GET /healthz keeps answering within 100 ms.
    func testHostileClientsDoNotDelayHealthz() throws {
        let (url, _) = try seededDatabase(secrets: 0)
        let kek = KekBinary(databaseURL: url)
        let (serve, log) = try kek.startLogged(["serve", "--listen", "127.0.0.1:0", "--no-schedules"], name: "serve-hostile")
        defer {
            kek.send(SIGTERM, to: serve)
            XCTAssertTrue(kek.waitForExit(serve, timeout: 10))
        }
        let (_, port) = try StatusServerProcess.waitForAddress(log: log, process: serve)
        var worst = 0.0
        func probe(_ label: String) {
            guard let ms = RawClient.probeHealthz(port: port) else { return XCTFail("no answer to /healthz \(label)") }
            worst = max(worst, ms)
            XCTAssertLessThan(ms, 100, "GET /healthz \(label) took \(ms) ms")
        }
        probe("at rest")

        let idle = try (0..<500).map { _ in try RawClient(port: port) }
        probe("with 500 idle connections")

        let slow = try RawClient(port: port, receiveTimeout: 10)
        let slowDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            for byte in "GET /status HTTP/1.1\r\n".utf8 {
                guard slow.send([byte]) else { break }
                Thread.sleep(forTimeInterval: 1)
            }
            slowDone.signal()
        }
        let huge = try RawClient(port: port)
        huge.send("GET /status HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 100 * 1024) + "\r\n\r\n")
        XCTAssertEqual(huge.readStatusLine(), "HTTP/1.1 431 Request Header Fields Too Large")
        probe("after a 100 KB header")
        let versionless = try RawClient(port: port)
        versionless.send("GET /status\r\n\r\n")
        XCTAssertEqual(versionless.readStatusLine(), "HTTP/1.1 400 Bad Request")
        probe("after a request line without version")
        for _ in 0..<20 {
            let noise = try RawClient(port: port, receiveTimeout: 2)
            noise.send((0..<4096).map { _ in UInt8.random(in: 0...255) })
            let answer = noise.readAll()
            XCTAssertTrue(answer.isEmpty || answer.hasPrefix("HTTP/1.1 4"), answer)
        }
        probe("after random bytes")
        for second in 0..<3 {
            probe("while a slow client trickles (\(second)s)")
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertEqual(idle.count, 500)
        XCTAssertTrue(serve.isRunning)
        print("kek serve under hostile clients: worst GET /healthz \(String(format: "%.1f", worst)) ms")
        _ = slowDone.wait(timeout: .now() + 30)
    }
}
