import Foundation
import PostgresClient
import TestSupport
import XCTest

final class SchemaMigratorTests: XCTestCase {
    func testRerunIsNoOpAndChangedFileIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "CREATE TABLE a (n int);".write(toFile: folder + "/001_a.sql", atomically: true, encoding: .utf8)
        try "CREATE TABLE b (n int); INSERT INTO b VALUES (1);".write(toFile: folder + "/002_b.sql", atomically: true, encoding: .utf8)
        let db = try PostgresConnection(try TestDatabase.fresh())

        let first = try SchemaMigrator(directory: folder).migrate(db)
        XCTAssertEqual(first.applied, ["001_a.sql", "002_b.sql"])
        let second = try SchemaMigrator(directory: folder).migrate(db)
        XCTAssertEqual(second.applied, [])
        XCTAssertEqual(second.alreadyApplied, 2)
        XCTAssertEqual(try db.query("SELECT count(*) FROM b")[0].decode(0, as: Int.self), 1)
        XCTAssertEqual(try SchemaMigrator.currentVersion(db), 2)

        try "CREATE TABLE b (n bigint);".write(toFile: folder + "/002_b.sql", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SchemaMigrator(directory: folder).migrate(db)) { error in
            XCTAssertTrue("\(error)".contains("002_b.sql was changed after it was applied"), "\(error)")
        }
    }

    func testFailingMigrationLeavesNothingBehind() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "CREATE TABLE c (n int); SELECT 1/0;".write(toFile: folder + "/001_c.sql", atomically: true, encoding: .utf8)
        let db = try PostgresConnection(try TestDatabase.fresh())
        XCTAssertThrowsError(try SchemaMigrator(directory: folder).migrate(db)) { error in
            XCTAssertTrue("\(error)".contains("migration 001_c.sql failed"), "\(error)")
            XCTAssertEqual((error as? PostgresError)?.sqlState, "22012", "the SQLSTATE is kept")
        }
        XCTAssertEqual(try SchemaMigrator.currentVersion(db), 0)
        XCTAssertEqual(try db.query("SELECT to_regclass('c') IS NULL")[0].decode(0, as: Bool.self), true)
    }

    func testConcurrentMigratorsApplyEachFileOnce() throws {
        let url = try TestDatabase.fresh()
        let errors = Counter()
        let threads = (0..<4).map { _ in
            Thread {
                do { _ = try TestDatabase.migrator.migrate(try PostgresConnection(url)) }
                catch { errors.record("\(error)") }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(30)
        while threads.contains(where: { !$0.isFinished }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(errors.messages, [])
        let db = try PostgresConnection(url)
        let count: Int = try db.query("SELECT count(*) FROM schema_migrations")[0].decode(0)
        XCTAssertEqual(count, try TestDatabase.migrator.migrations.count)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var messages: [String] = []
        func record(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
    }
}
