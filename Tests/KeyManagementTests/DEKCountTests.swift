import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import Synchronization
import TestSupport
import XCTest

/// The DEK counts the database maintains (sql/100_kek_dek_counts.sql) always equal
/// `count(*) GROUP BY kek_id`, whoever writes, and nobody but the owner can change them.
final class DEKCountTests: XCTestCase {
    private func assertCountsExact(_ f: KeyFixture, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try DEKCounts.current(f.connection), try DEKCounts.exact(f.connection), message, file: file, line: line)
        try DEKCounts.fold(f.connection)
        XCTAssertEqual(try DEKCounts.unfolded(f.connection), 0, "\(message): one fold takes every delta", file: file, line: line)
        XCTAssertEqual(try DEKCounts.current(f.connection), try DEKCounts.exact(f.connection), "\(message), folded", file: file, line: line)
    }

    func testInsertDeleteMoveAndRollbackKeepTheCountsExact() throws {
        let f = try KeyFixture()
        let first = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(30)
        XCTAssertEqual(try DEKCounts.current(f.connection), [first: 30])
        try assertCountsExact(f, "after inserts")

        try f.connection.execute("DELETE FROM data_keys WHERE id IN (SELECT id FROM data_keys ORDER BY id LIMIT 4)")
        XCTAssertEqual(try DEKCounts.current(f.connection), [first: 26])

        let active = try KEKCiphers(connection: f.connection, rootKeys: f.rootKeys).active()
        try? f.connection.transaction {
            for _ in 0..<5 { _ = try DataKeys.create(f.connection, under: active) }
            try f.connection.execute("DELETE FROM data_keys WHERE id = (SELECT min(id) FROM data_keys)")
            XCTAssertEqual(try DEKCounts.current(f.connection), [first: 30], "the transaction sees its own changes")
            throw CancellationError()
        }
        XCTAssertEqual(try DEKCounts.current(f.connection), [first: 26], "a rolled-back transaction leaves no delta")
        try assertCountsExact(f, "after a rollback")

        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        let old = try keks.cipher(first)
        let second = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let new = try keks.cipher(second)
        let deltasBefore = try DEKCounts.unfolded(f.connection)
        let moved = try Rewrap.batch(f.connection, from: old, to: new, after: 0, limit: 20)
        XCTAssertEqual(moved.rewrapped, 20)
        XCTAssertEqual(try DEKCounts.unfolded(f.connection) - deltasBefore, 2, "one delta per KEK per statement, not per row")
        XCTAssertEqual(try DEKCounts.current(f.connection), [first: 6, second: 20])

        // A rewrite in place (same KEK) changes no count and appends nothing.
        let before = try DEKCounts.unfolded(f.connection)
        try f.connection.execute("UPDATE data_keys SET wrapped_key = wrapped_key WHERE kek_id = $1", [second])
        XCTAssertEqual(try DEKCounts.unfolded(f.connection), before)
        try assertCountsExact(f, "after a move")
        XCTAssertEqual(try f.store.list().first { $0.id == second }?.dekCount, 20)
        XCTAssertEqual(try f.store.list().first { $0.id == second }?.dekCountSource, .maintained)
    }

    /// The migration counts what was there before it: one scan at migrate time.
    func testMigrationInitialisesTheCountsOfAnExistingStore() throws {
        let db = try KeyFixture.migrated(below: 100)
        let rootKeys = RootKeys(keyring: try Keyring.parse(TestRootKey.line))
        let kek = try KEKStore(connection: db, actor: "test").generate(rootKeys: rootKeys, activate: true)
        let active = try KEKCiphers(connection: db, rootKeys: rootKeys).active()
        try db.transaction { for _ in 0..<12 { _ = try DataKeys.create(db, under: active) } }
        _ = try SchemaMigrator(directory: TestDatabase.sqlDirectory).migrate(db)
        XCTAssertEqual(try DEKCounts.current(db), [kek: 12])
        XCTAssertEqual(try DEKCounts.unfolded(db), 0)
    }

    /// Application writers inserting and deleting (some rolled back), a rotation moving the old
    /// KEK's DEKs in batches and folds, all at once on their own connections: afterwards the
    /// maintained counts equal the scan exactly. The outcome does not depend on the interleaving.
    func testConcurrentWritersARotationAndFoldsLeaveTheCountsExact() throws {
        let f = try KeyFixture()
        let first = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(600)
        let oldIDs: [Int64] = try f.connection.query("SELECT id FROM data_keys ORDER BY id").map { try $0.decode(0) }
        let second = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let failures = Failures()
        let group = DispatchGroup()
        let writers = 3
        for writer in 0..<writers {
            let victims = oldIDs.enumerated().filter { $0.offset % 10 == writer }.map(\.element)  // 60 each, raced with the move
            run(in: group, failures) { [url = f.url] in
                let db = try PostgresConnection(url)
                let rootKeys = RootKeys(keyring: try Keyring.parse(TestRootKey.line))
                let active = try KEKCiphers(connection: db, rootKeys: rootKeys).cipher(second)
                var mine: [Int64] = []
                for step in 0..<150 {
                    let rollBack = (step * 7 + writer) % 5 == 0  // a fixed 1 in 5, different steps per writer
                    do {
                        try db.transaction {
                            mine.append(try DataKeys.create(db, under: active).dekID)
                            if (step * 13 + writer) % 2 == 0, mine.count > 1 {
                                try db.execute("DELETE FROM data_keys WHERE id = $1", [mine.removeFirst()])
                            }
                            if step < victims.count { try db.execute("DELETE FROM data_keys WHERE id = $1", [victims[step]]) }
                            if rollBack { throw CancellationError() }
                        }
                    } catch is CancellationError {}
                    if step % 10 == 0 { try DEKCounts.fold(db, limit: 50) }
                }
            }
        }
        run(in: group, failures) { [url = f.url] in
            let db = try PostgresConnection(url)
            let rootKeys = RootKeys(keyring: try Keyring.parse(TestRootKey.line))
            let keks = KEKCiphers(connection: db, rootKeys: rootKeys)
            let (old, new) = (try keks.cipher(first), try keks.cipher(second))
            var after: Int64 = 0
            while true {
                let batch = try db.transaction(.readCommitted) { try Rewrap.batch(db, from: old, to: new, after: after, limit: 40) }
                guard let last = batch.lastID else { break }
                after = last
                try DEKCounts.fold(db, limit: 50)
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 300), .success)
        XCTAssertEqual(failures.all, [])
        // Rows a writer held (deleting) while the batch passed were skipped; a rotation's retry pass takes them.
        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        _ = try Rewrap.batch(f.connection, from: try keks.cipher(first), to: try keks.cipher(second), after: 0, limit: 1_000)
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [first]), 0, "the rotation moved every DEK left")
        try assertCountsExact(f, "after concurrent writers, a rotation and folds")
    }

    /// kek_app and kek_worker cannot write the counts or the deltas; kek_app cannot read or fold
    /// them either. A count changes only when DEKs do.
    func testNoLoginRoleCanForgeTheCounts() throws {
        let f = try KeyFixture()
        let kek = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(5)
        let forgeries = ["UPDATE kek_dek_counts SET deks = 0", "DELETE FROM kek_dek_counts",
                         "INSERT INTO kek_dek_counts (kek_id, deks) VALUES (\(kek), 1000)",
                         "INSERT INTO kek_dek_count_deltas (kek_id, deks) VALUES (\(kek), 1000)",
                         "DELETE FROM kek_dek_count_deltas", "UPDATE kek_dek_count_deltas SET deks = 0"]
        for role in ["kek_app", "kek_worker"] {
            try f.connection.execute("SET ROLE \(role)")
            var refused = forgeries
            if role == "kek_app" { refused += ["SELECT kek_fold_dek_counts()", "SELECT * FROM kek_dek_counts_current"] }
            for statement in refused {
                XCTAssertThrowsError(try f.connection.execute(statement), "\(role): \(statement)") {
                    XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\(role): \(statement): \($0)")
                }
            }
            XCTAssertThrowsError(try f.connection.execute("SELECT kek_count_inserted_deks()"), "a trigger function is not callable")
            try f.connection.execute("RESET ROLE")
        }
        // No login may attach a trigger function of kek's (they run with the owner's rights) to a
        // table of its own, and no login can stop the folding by holding a lock (sql/112).
        for role in ["kek_app", "kek_worker"] {
            try f.connection.execute("SET ROLE \(role)")
            try f.connection.execute("CREATE TEMP TABLE forged_\(role) (kek_id int)")
            for (event, function) in [("INSERT", "kek_count_inserted_deks"), ("DELETE", "kek_count_deleted_deks")] {
                let table = event == "INSERT" ? "NEW TABLE AS deks_new" : "OLD TABLE AS deks_old"
                XCTAssertThrowsError(try f.connection.execute("""
                    CREATE TRIGGER forged AFTER \(event) ON forged_\(role) REFERENCING \(table)
                    FOR EACH STATEMENT EXECUTE FUNCTION \(function)()
                    """), "\(role): \(function)") {
                    XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\(role): \($0)")
                }
            }
            XCTAssertThrowsError(try f.connection.execute("""
                CREATE TRIGGER forged AFTER TRUNCATE ON forged_\(role) FOR EACH STATEMENT EXECUTE FUNCTION kek_count_truncated_deks()
                """)) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, .insufficientPrivilege, "\(role): \($0)") }
            try f.connection.execute("DROP TABLE forged_\(role)")
            try f.connection.execute("RESET ROLE")
        }
        let holder = try PostgresConnection(try TestLogins.appURL(f.url, projects: [UUID()]))
        XCTAssertTrue(try holder.query("SELECT pg_try_advisory_lock(hashtext('kek.dek_counts_fold'))")[0].decode(0) as Bool)
        try f.seedDEKs(2)
        try f.connection.execute("SET ROLE kek_worker")
        XCTAssertGreaterThan(try DEKCounts.fold(f.connection), 0, "an application holding the old fold lock stops nothing")
        XCTAssertEqual(try DEKCounts.current(f.connection), [kek: 7])
        try f.connection.execute("RESET ROLE")
        try f.seedDEKs(1)
        try f.connection.execute("SET ROLE kek_worker")
        try DEKCounts.fold(f.connection)
        XCTAssertEqual(try DEKCounts.current(f.connection), [kek: 8], "the worker reads and folds")
        try f.connection.execute("RESET ROLE")
    }

    private func run(in group: DispatchGroup, _ failures: Failures, _ body: @escaping @Sendable () throws -> Void) {
        group.enter()
        Thread {
            defer { group.leave() }
            do { try body() } catch { failures.append("\(error)") }
        }.start()
    }
}

/// Errors of the test's threads, reported once they are joined.
private final class Failures: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ failure: String) { list.withLock { $0.append(failure) } }
    var all: [String] { list.withLock { $0 } }
}
