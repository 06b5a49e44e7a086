import Foundation
import PostgresClient
import TestSupport
import XCTest

final class CLITests: XCTestCase {
    func testHelpAndUsageErrors() throws {
        let kek = KekBinary(databaseURL: nil)
        let help = try kek.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("migrate"))
        let unknown = try kek.run(["migrate", "--frobnicate"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("unknown option '--frobnicate'"), unknown.stderr)
        let noDatabase = try kek.run(["migrate"])
        XCTAssertEqual(noDatabase.status, 1)
        XCTAssertTrue(noDatabase.stderr.contains("DATABASE_URL is not set"), noDatabase.stderr)
    }

    func testMigrateTwiceIsNoOp() throws {
        let url = try TestDatabase.fresh()
        let kek = KekBinary(databaseURL: url, as: .owner)
        let first = try kek.run(["migrate"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("applied 001_key_store.sql"), first.stdout)
        let second = try kek.run(["migrate"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stdout.contains("applied 0"), second.stdout)
    }
}
