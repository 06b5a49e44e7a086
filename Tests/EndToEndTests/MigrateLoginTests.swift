import Foundation
import TestSupport
import XCTest

/// `kek migrate` with the wrong login says which login it needs (runbooks/database-roles.md),
/// not only the server's bare "permission denied".
final class MigrateLoginTests: XCTestCase {
    func testMigrateAsAWorkerLoginNamesTheOwnerAndTheRunbook() throws {
        let h = try SecretsHarness()
        let outcome = try h.run(["migrate"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("[42501]"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("runs as the login that owns the schema"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("runbooks/database-roles.md"), outcome.stderr)
    }
}
