import Foundation
import TestSupport
import XCTest

/// runbooks/destroy-old-kek.md as an operator runs it: a scheduled destruction shows in
/// `kek keys list` until it is cancelled, so "changed your mind" has something to look at.
final class DestroyScheduleTests: XCTestCase {
    func testKeysListShowsAScheduledDestructionUntilItIsCancelled() throws {
        let h = try SecretsHarness()
        XCTAssertEqual(try h.run(["keys", "generate"]).status, 0)
        let old: Int32 = try h.connection.query("SELECT id FROM keks WHERE state = 'pending'")[0].decode(0)
        XCTAssertEqual(try h.run(["keys", "activate", String(old)]).status, 0)
        XCTAssertEqual(try h.run(["keys", "generate", "--activate"]).status, 0)
        XCTAssertEqual(try h.run(["keys", "retire", String(old)]).status, 0)
        XCTAssertEqual(try h.run(["verify"]).status, 0)

        let scheduled = try h.run(["keys", "destroy", String(old), "--after", "7d"])
        XCTAssertEqual(scheduled.status, 0, scheduled.stderr)
        let due: Date = try h.connection.query("SELECT destroy_after FROM keks WHERE id = $1", [old])[0].decode(0)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let listed = try h.run(["keys", "list"])
        XCTAssertTrue(listed.stdout.contains("DESTROY AFTER"), listed.stdout)
        XCTAssertEqual(row(of: old, in: listed.stdout)?.last.map(String.init), formatter.string(from: due), listed.stdout)

        XCTAssertEqual(try h.run(["keys", "destroy", "--cancel", String(old)]).status, 0)
        XCTAssertEqual(row(of: old, in: try h.run(["keys", "list"]).stdout)?.last.map(String.init), "-")
    }

    private func row(of id: Int32, in table: String) -> [Substring]? {
        table.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.first == Substring(String(id)) }
    }
}
