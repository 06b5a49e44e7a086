import Foundation
import PostgresClient
import TestSupport
import XCTest

/// An installed `kek`: the binary alone, in a folder with no `sql/` or `jobs/` beside it or
/// above it, as `install -m 0755 kek /usr/local/bin/` leaves it.
final class InstalledBinaryTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("kek-installed-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: KekBinary.path, toPath: folder.appendingPathComponent("kek").path)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func installed(_ url: String?, extra: [String: String] = [:]) -> KekBinary {
        // The owner: an installed kek migrates (a kek_worker login may not create tables).
        var kek = KekBinary(databaseURL: url, extra: extra, as: .owner)
        kek.executable = folder.appendingPathComponent("kek").path
        kek.workingDirectory = folder
        return kek
    }

    func testMigrateRotateAndStatusFromAnEmptyFolder() throws {
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["kek"])
        let kek = installed(try TestDatabase.fresh(), extra: ["KEK_ROOT_KEYS": TestRootKey.line])
        let migrate = try kek.run(["migrate", "--json"])
        XCTAssertEqual(migrate.status, 0, migrate.stderr)
        let applied = try JSONSerialization.jsonObject(with: Data(migrate.stdout.utf8)) as? [String: Any]
        let expected = try TestDatabase.migrator
        XCTAssertEqual((applied?["applied"] as? [String])?.count, expected.migrations.count, migrate.stdout)
        XCTAssertEqual(applied?["schema_version"] as? Int, expected.latestVersion)

        XCTAssertEqual(try kek.run(["keys", "generate", "--activate"]).status, 0)
        let rotate = try kek.run(["rotate", "--json"])
        XCTAssertEqual(rotate.status, 0, rotate.stderr)
        let job = try JSONSerialization.jsonObject(with: Data(rotate.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(job?["job_id"] as? Int, rotate.stdout)
        XCTAssertEqual(job?["enqueued"] as? Bool, true, rotate.stdout)

        let status = try kek.run(["status", "--json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["schema_version"] as? Int, expected.latestVersion)
        XCTAssertEqual(report?["expected_schema_version"] as? Int, expected.latestVersion)
    }

    func testASQLFolderInTheWorkingDirectoryIsIgnored() throws {
        let decoy = folder.appendingPathComponent("sql")
        try FileManager.default.createDirectory(at: decoy, withIntermediateDirectories: true)
        try "SELECT 1/0;".write(to: decoy.appendingPathComponent("999_decoy.sql"), atomically: true, encoding: .utf8)
        let kek = installed(try TestDatabase.fresh())
        let version = try kek.run(["version", "--json"])
        XCTAssertEqual(version.status, 0, version.stderr)
        let info = try JSONSerialization.jsonObject(with: Data(version.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(info?["schema_version"] as? Int, try TestDatabase.migrator.latestVersion)
        XCTAssertFalse((info?["migrations"] as? [String] ?? []).contains("999_decoy.sql"))
        XCTAssertEqual(try kek.run(["migrate"]).status, 0)
        let short = try kek.run(["--version"])
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertTrue(short.stdout.hasPrefix("kek "), short.stdout)
    }
}
