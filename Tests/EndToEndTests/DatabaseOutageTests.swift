import Foundation
import HTTPTestSupport
import PostgresClient
import TestSupport
import ThrowawayPostgres
import XCTest

/// Rotations that outlive their database: immediate restarts and a standby promotion, on
/// private clusters, with every kek process left running throughout.
final class DatabaseOutageTests: XCTestCase {
    /// A migrated database named `kek` on `cluster`, reached through `url` (one host or several).
    private func migratedDatabase(on cluster: ThrowawayPostgres, url: String) throws {
        try PostgresConnection(cluster.connectionString).executeScript("CREATE DATABASE kek")
        _ = try SchemaMigrator(directory: TestDatabase.sqlDirectory).migrate(try PostgresConnection(url))
    }

    /// Runs `body` until it stops throwing (the test's own connection reconnects on the next call).
    private func retrying<T>(timeout: Double = 30, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do { return try body() } catch where Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        }
    }

    /// DEKs done by rotation `job` so far (parent checkpoint or the sum of its parts).
    private func done(_ scenario: RotationScenario, job: Int64) throws -> Int {
        try retrying {
            try scenario.count("""
                SELECT greatest(progress_done, coalesce((SELECT sum(progress_done) FROM jobs WHERE parent_id = $1), 0))::int8
                  FROM jobs WHERE id = $1
                """, [job])
        }
    }

    private func statusDone(_ base: String, job: Int64) -> Int? {
        guard let response = try? Curl.request(base + "/status"), response.status == 200,
              let report = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
              let entry = (report["jobs"] as? [[String: Any]])?.first(where: { ($0["id"] as? Int).map(Int64.init) == job })
        else { return nil }
        return entry["done"] as? Int
    }

    private let began = Date()
    private func mark(_ what: String) { print(String(format: "[%6.1fs] ", Date().timeIntervalSince(began)) + what) }

    func testThreeImmediateRestartsDuringARotationRecoverEveryProcessByItself() throws {
        let secrets = 200_000
        let cluster = try ThrowawayPostgres()
        defer { cluster.stop() }
        let url = cluster.connectionString(database: "kek")
        try migratedDatabase(on: cluster, url: url)
        let scenario = try RotationScenario(secrets: secrets, url: url)
        var serveKek = scenario.kek
        serveKek.environment["KEK_STATUS_TOKEN"] = "restart-test-token-0123456789"
        let serve = try serveKek.startLogged(["serve", "--listen", "127.0.0.1:0", "--no-schedules"],
                                             name: "restart-serve")
        let plain = try scenario.worker("restart-1")
        let listening = try scenario.worker("restart-2", extra: ["--status-listen", "127.0.0.1:0"])
        let processes = [serve, plain, listening]
        defer { processes.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let logs = { processes.map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined(separator: "\n---\n") }
        mark("let bases = [")
        let bases = [try StatusServerProcess.waitForAddress(log: serve.log, process: serve.process).base,
                     try StatusServerProcess.waitForAddress(log: listening.log, process: listening.process).base]

        // A rate cap keeps the rotation running long enough for three restarts.
        let job = try scenario.enqueueRotation(["--batch-size", "1000", "--parts", "8", "--max-rate", "25000"])
        for restart in 1...3 {
            let threshold = secrets * restart / 5
            XCTAssertTrue(try waitUntil(timeout: 120) { try done(scenario, job: job) >= threshold }, "restart \(restart): \(logs())")
            try cluster.stopImmediately()
            XCTAssertTrue(waitUntil(timeout: 10) { bases.allSatisfy { (try? Curl.request($0 + "/readyz"))?.status == 503 } },
                          "restart \(restart): /readyz should say the database is away")
            try cluster.start()
            let accepting = Date()
            let before = try done(scenario, job: job)
            XCTAssertTrue(waitUntil(timeout: 5) { bases.allSatisfy { (try? Curl.request($0 + "/readyz"))?.status == 200 } },
                          "restart \(restart): /readyz not 200 within 5s of the server accepting connections: \(logs())")
            let ready = Date().timeIntervalSince(accepting)
            XCTAssertTrue(waitUntil(timeout: 60) { bases.allSatisfy { (statusDone($0, job: job) ?? 0) > before } },
                          "restart \(restart): /status progress did not move again past \(before): \(logs())")
            print(String(format: "restart %d at %d DEKs: /readyz 200 %.2fs after the server accepted connections", restart, before, ready))
        }
        XCTAssertEqual(try retrying { try scenario.waitForEnd(of: job, timeout: 240) }, "completed", logs())
        try scenario.assertRotated(from: scenario.firstKEK, secrets: secrets)
        mark("XCTAssertTrue(processes.allSatisfy")
        XCTAssertTrue(processes.allSatisfy { $0.process.isRunning }, "a kek process exited: \(logs())")
        XCTAssertTrue(logs().contains("database_lost"), logs())
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM jobs WHERE parent_id = $1 AND state <> 'completed'", [job]), 0)
    }

    func testWorkersOnAMultiHostURLFinishTheRotationOnAPromotedStandby() throws {
        let secrets = 50_000
        let primary = try ThrowawayPostgres()
        defer { primary.stop() }
        try PostgresConnection(primary.connectionString).executeScript("CREATE DATABASE kek")
        _ = try SchemaMigrator(directory: TestDatabase.sqlDirectory).migrate(try PostgresConnection(primary.connectionString(database: "kek")))
        // Seeded before the base backup, so the standby starts with every DEK.
        let seeded = try RotationScenario(secrets: secrets, url: primary.connectionString(database: "kek"))
        mark("let standby = try primary.makeStandby()")
        let standby = try primary.makeStandby()
        defer { standby.stop() }
        let both = ThrowawayPostgres.multiHostConnectionString([primary, standby], database: "kek")
        let scenario = try seeded.reconnected(to: both)
        let workers = [try scenario.worker("failover-1"), try scenario.worker("failover-2")]
        defer { workers.forEach { scenario.kek.send(SIGKILL, to: $0.process) } }
        let logs = { workers.map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined(separator: "\n---\n") }
        let job = try scenario.enqueueRotation(["--batch-size", "500", "--parts", "4", "--max-rate", "10000"])
        XCTAssertTrue(try waitUntil(timeout: 120) { try done(scenario, job: job) >= secrets / 3 }, logs())
        // A clean stop streams the primary's last WAL to the standby; then the standby takes over.
        mark("primary.stop()")
        primary.stop()
        mark("try standby.promote()")
        try standby.promote()
        XCTAssertEqual(try retrying { try scenario.waitForEnd(of: job, timeout: 240) }, "completed", logs())
        mark("XCTAssertTrue(try scenario.connection.qu")
        XCTAssertTrue(try scenario.connection.query("SELECT NOT pg_is_in_recovery()")[0].decode(0, as: Bool.self))
        try scenario.assertRotated(from: scenario.firstKEK, secrets: secrets)
        // Every DEK was wrapped under the new KEK once: none twice, none lost with the old primary.
        XCTAssertEqual(try scenario.count("SELECT kek_wraps(id) FROM keks WHERE state = 'active'"), secrets)
        mark("XCTAssertTrue(workers.allSatisfy")
        XCTAssertTrue(workers.allSatisfy { $0.process.isRunning }, logs())
    }
}
