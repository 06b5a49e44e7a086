import Foundation
import HTTPTestSupport
import PostgresClient
import TestSupport
import ThrowawayPostgres
import XCTest

/// kek behind a real PgBouncer (Unix socket in a private directory, trust auth) in front
/// of the suite's cluster, in transaction and session pooling modes.
final class PoolerTests: XCTestCase {
    private func pooler(_ mode: ThrowawayPgBouncer.PoolMode, poolSize: Int = 4) throws -> ThrowawayPgBouncer {
        try ThrowawayPgBouncer(inFrontOf: try TestDatabase.sharedCluster(), mode: mode, poolSize: poolSize,
                               users: ["postgres", TestLogins.worker, TestLogins.app, TestLogins.otherApp])
    }

    func testEightConcurrentMigratesThroughTransactionPoolingAllSucceed() throws {
        let bouncer = try pooler(.transaction)
        defer { bouncer.stop() }
        let direct = try TestDatabase.fresh()
        let kek = KekBinary(databaseURL: bouncer.connectionString(database: TestDatabase.databaseName(of: direct)), as: .owner)
        let runs = try (0..<8).map { try kek.startLogged(["migrate"], name: "migrate-\($0)") }
        for run in runs {
            XCTAssertTrue(kek.waitForExit(run.process, timeout: 120))
            XCTAssertEqual(run.process.terminationStatus, 0, (try? String(contentsOf: run.log, encoding: .utf8)) ?? "")
        }
        let count: Int = try PostgresConnection(direct).query("SELECT count(*) FROM schema_migrations")[0].decode(0)
        XCTAssertEqual(count, try SchemaMigrator(directory: TestDatabase.sqlDirectory).migrations.count)
    }

    /// One 2-worker rotation of `secrets` DEKs with workers (and `kek serve`) reaching the
    /// database through `pooler` (nil: directly). Returns pickup and total seconds.
    private func rotation(through pooler: ThrowawayPgBouncer?, secrets: Int, label: String) throws -> (pickup: Double, total: Double) {
        let seeded = try RotationScenario(secrets: secrets)
        let scenario = pooler.map { seeded.through($0.connectionString(database: TestDatabase.databaseName(of: seeded.url))) } ?? seeded
        let token = "pooler-test-token-0123456789"
        var serveKek = scenario.kek
        serveKek.environment["KEK_STATUS_TOKEN"] = token
        let serve = try serveKek.startLogged(["serve", "--listen", "127.0.0.1:0", "--no-schedules"], name: "serve-\(label)")
        let workers = [try scenario.worker("\(label)-1"), try scenario.worker("\(label)-2")]
        defer {
            (workers + [serve]).forEach { scenario.kek.send(SIGKILL, to: $0.process) }
        }
        let logs = { (workers + [serve]).map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined() }
        XCTAssertTrue(try seededWait(scenario, timeout: 20) {
            try scenario.count("SELECT count(*) FROM workers WHERE stopped_at IS NULL") == 2
        }, logs())
        Thread.sleep(forTimeInterval: 1.5) // both loops idle in their wait: pickup is then the wake-up latency
        let (base, _) = try StatusServerProcess.waitForAddress(log: serve.log, process: serve.process)
        let accepted = try Curl.request(base + "/api/v1/kek/rotate", method: "POST", headers: ["Authorization: Bearer \(token)"])
        XCTAssertEqual(accepted.status, 202, accepted.text)
        let job: Int64 = try scenario.connection.query("SELECT max(id) FROM jobs WHERE kind = 'rotate_kek'")[0].decode(0)
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 240), "completed", logs())
        try scenario.assertRotated(from: scenario.firstKEK, secrets: secrets)
        XCTAssertEqual(try Curl.request(base + "/readyz").status, 200)
        if pooler != nil {
            XCTAssertTrue(logs().contains("pooler_detected") || logs().contains("a connection pooler sits"), logs())
        }
        return try scenario.timings(ofJob: job)
    }

    private func seededWait(_ scenario: RotationScenario, timeout: Double, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    /// What a plain client of the pool sees on every server session kek used: the server's
    /// defaults, since kek sets nothing beyond a transaction.
    private func assertNoSettingLeaked(_ bouncer: ThrowawayPgBouncer, database: String, poolSize: Int) throws {
        let clients = try (0..<poolSize).map { _ in try PostgresConnection(bouncer.connectionString(database: database)) }
        for client in clients { try client.execute("BEGIN") } // each holds its own server session
        for client in clients {
            let row = try client.query("""
                SELECT current_setting('statement_timeout'), current_setting('client_min_messages'),
                       current_setting('application_name'), current_setting('lock_timeout')
                """)[0]
            XCTAssertEqual(try row.decode(0, as: String.self), "0")
            XCTAssertEqual(try row.decode(1, as: String.self), "notice")
            XCTAssertEqual(try row.decode(2, as: String.self), "")
            XCTAssertEqual(try row.decode(3, as: String.self), "0")
        }
        for client in clients { try client.execute("COMMIT") }
    }

    func testRotationThroughTransactionAndSessionPoolingBesideDirect() throws {
        let secrets = 20_000
        let direct = try rotation(through: nil, secrets: secrets, label: "direct")
        let transactionPool = try pooler(.transaction)
        defer { transactionPool.stop() }
        let pooled = try rotation(through: transactionPool, secrets: secrets, label: "txpool")
        let sessionPool = try pooler(.session, poolSize: 30) // session mode: one server session per client
        defer { sessionPool.stop() }
        let session = try rotation(through: sessionPool, secrets: secrets, label: "sesspool")
        print(String(format: "pooler figures (%d DEKs, 2 workers, --poll-interval 1s): pickup direct %.2fs, transaction pool %.2fs, "
                     + "session pool %.2fs; rotation direct %.1fs, transaction pool %.1fs, session pool %.1fs",
                     secrets, direct.pickup, pooled.pickup, session.pickup, direct.total, pooled.total, session.total))
        // Behind a pooler the workers poll: pickup within the 1s poll interval, plus a claim's time.
        XCTAssertLessThan(pooled.pickup, 2.5)
        XCTAssertLessThan(session.pickup, 2.5)
    }

    func testNothingKekSetsOutlivesItsTransactionOnPooledSessions() throws {
        let bouncer = try pooler(.transaction, poolSize: 3)
        defer { bouncer.stop() }
        _ = try rotation(through: bouncer, secrets: 2_000, label: "leak")
        let database = try PostgresConnection(TestDatabase.sharedCluster().connectionString)
            .query("SELECT datname FROM pg_database WHERE datname LIKE 'test_%' ORDER BY oid DESC LIMIT 1")[0].decode(0, as: String.self)
        try assertNoSettingLeaked(bouncer, database: database, poolSize: 3)
    }
}
