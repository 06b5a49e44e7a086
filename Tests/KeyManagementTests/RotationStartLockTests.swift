import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// A rotation's start against an application storing secrets (issue #19, finding 5): the long
/// scan holds nothing an application's write needs, and the short transaction that generates
/// the KEK and appends audit rows never waits for a lock an application's put holds.
final class RotationStartLockTests: XCTestCase {
    private struct Logins {
        let fixture: KeyFixture
        let project = UUID()
        let workerURL: String
        let appURL: String

        init() throws {
            fixture = try KeyFixture()
            try fixture.store.generate(rootKeys: fixture.rootKeys, activate: true)
            try fixture.seedDEKs(40)
            workerURL = try TestLogins.url(fixture.url, login: TestLogins.worker, memberOf: "kek_worker")
            appURL = try TestLogins.appURL(fixture.url, projects: [project])
        }

        /// A kek_app session that gives up on any lock after 200 ms (55P03), as a latency-bound application would.
        func impatientApp() throws -> (PostgresConnection, SecretStore) {
            let db = try PostgresConnection(appURL)
            try db.execute("SET lock_timeout = '200ms'")
            db.transactionSettings["lock_timeout"] = "200ms"
            return (db, SecretStore(connection: db, keks: KEKCiphers(connection: db, rootKeys: fixture.rootKeys), actor: "app"))
        }
    }

    func testAnApplicationStoresSecretsThroughTheScanAndIsHeldOnlyByTheShortTransaction() throws {
        let logins = try Logins()
        let worker = try PostgresConnection(logins.workerURL)
        let (_, app) = try logins.impatientApp()
        let preparation = try RotationPreparation.make(worker, rewrapOnly: nil, parts: 4)
        XCTAssertEqual(preparation.scanned.map(\.deks), [40])
        XCTAssertEqual(preparation.scanned[0].cuts.count, 3, "40 DEKs in 4 parts of 10")
        XCTAssertFalse(worker.inTransaction, "the scan runs in no transaction")
        XCTAssertEqual(try locksHeld(by: worker, seenFrom: logins.fixture.connection), 0)
        try app.put(project: logins.project, name: "DURING_THE_SCAN", value: SecretBytes("v"))

        // The old order ran the scan here, inside the transaction that had generated the KEK and
        // appended audit rows: an application's put then fails on its lock timeout.
        try worker.execute("BEGIN")
        let (start, parts) = try RotationSteps.start(worker, preparation, rootKeys: logins.fixture.rootKeys,
                                                     actor: "worker", jobID: nil)
        XCTAssertThrowsError(try app.put(project: logins.project, name: "DURING_THE_START", value: SecretBytes("v"))) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, .lockNotAvailable, "\($0)")
        }
        try worker.execute("COMMIT")
        XCTAssertEqual(start.total, 41, "the 40 scanned and the one stored during the scan")
        XCTAssertEqual(parts.count, 4)
        XCTAssertEqual(parts.last?.upToId, .max, "the last part is open: it takes DEKs inserted after the scan")
        try app.put(project: logins.project, name: "AFTER_THE_START", value: SecretBytes("v"))
        XCTAssertNil(try AuditLog.verify(logins.fixture.connection).firstBrokenRow)
    }

    /// An application between its DEK insert (FOR KEY SHARE on the active KEK's row) and its
    /// audit row while a rotation starts: the rotation's start, with a 200 ms lock timeout of
    /// its own, commits without waiting, and then so does the application.
    func testARotationStartsBesideAnApplicationsOpenPutAndNeitherWaitsForTheOther() throws {
        let logins = try Logins()
        let (db, _) = try logins.impatientApp()
        let worker = try PostgresConnection(logins.workerURL)
        worker.transactionSettings["lock_timeout"] = "200ms"
        let preparation = try RotationPreparation.make(worker, rewrapOnly: nil, parts: 2)
        try db.execute("BEGIN")
        _ = try DataKeys.create(db, under: try KEKCiphers(connection: db, rootKeys: logins.fixture.rootKeys).active())

        let (start, parts) = try worker.transaction {
            try RotationSteps.start(worker, preparation, rootKeys: logins.fixture.rootKeys, actor: "worker", jobID: nil)
        }
        try AuditLog.append(db, actor: "app", action: .secretCreated, target: "secret:test")
        try db.execute("COMMIT")

        XCTAssertEqual(start.total, 40, "the application's DEK was not committed when the rotation counted")
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(try logins.fixture.count("SELECT count(*) FROM data_keys WHERE kek_id = ANY($1::int4[])",
                                                [PostgresArray(start.oldKeks)]), 41,
                       "the application's DEK is under the demoted KEK: the rotation's sweep moves it")
        XCTAssertNil(try AuditLog.verify(logins.fixture.connection).firstBrokenRow)
    }

    /// The decision a rotation makes before it starts (the check before enqueueing, and the job's
    /// preparation) reads the maintained counts, not the secrets: the project listing of
    /// `kek rotate --plan` joins every DEK with its secret (0.82 s per 1M DEKs) and ran in both.
    /// Shown by a session holding both tables that point at DEKs: the decision does not wait for it.
    func testTheRotationsDecisionReadsNoSecretOrSigningKeyRow() throws {
        let logins = try Logins()
        let worker = try PostgresConnection(logins.workerURL)
        worker.transactionSettings["lock_timeout"] = "500ms"
        let holder = try PostgresConnection(logins.fixture.url)
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE project_secrets, signature_keys IN ACCESS EXCLUSIVE MODE")

        let preparation = try RotationPreparation.make(worker, rewrapOnly: nil, parts: 2)
        XCTAssertEqual(preparation.plan.deksToRewrap, 40)
        XCTAssertEqual(preparation.plan.projects.count, 0)
        let job = try KeyJobRequests.rotate(worker, rootKeys: logins.fixture.rootKeys, actor: "worker", RotationArguments())
        XCTAssertTrue(job.inserted)
        XCTAssertThrowsError(try RotationPlan.make(worker, listingProjects: true), "the listing does read them") {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, .lockNotAvailable, "\($0)")
        }
        try holder.execute("ROLLBACK")
    }

    private func locksHeld(by connection: PostgresConnection, seenFrom admin: PostgresConnection) throws -> Int {
        try admin.query("SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype <> 'virtualxid'",
                        [connection.backendPID])[0].decode(0)
    }
}
