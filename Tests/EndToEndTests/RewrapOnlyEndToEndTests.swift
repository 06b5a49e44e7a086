import Foundation
import KeyManagement
import PostgresClient
import XCTest

/// `kek keys activate N` then `kek rotate`: the DEKs move to N, and no further KEK is made.
final class RewrapOnlyEndToEndTests: XCTestCase {
    func testRotateAfterActivateMovesDEKsToTheActivatedKEKWithoutGeneratingAnother() throws {
        let scenario = try RotationScenario(secrets: 2_000)
        let generated = try scenario.kek.run(["keys", "generate"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let pending: Int32 = try scenario.connection.query("SELECT max(id) FROM keks")[0].decode(0)
        XCTAssertEqual(try scenario.kek.run(["keys", "activate", String(pending)]).status, 0)
        let plan = try scenario.kek.run(["rotate", "--plan"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("generate no KEK and move 2,000 DEKs"), plan.stdout)

        let worker = try scenario.worker("o1", concurrency: 2)
        defer { scenario.kek.send(SIGKILL, to: worker.process) }
        let job = try scenario.enqueueRotation(["--parts", "2"])
        XCTAssertEqual(try scenario.waitForEnd(of: job, timeout: 120), "completed")
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM keks"), 2, "no third KEK")
        XCTAssertEqual(try scenario.connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0, as: Int32.self), pending)
        try scenario.assertRotated(from: scenario.firstKEK, secrets: 2_000)

        // With nothing left behind, --rewrap-only has nothing to move and makes no KEK either.
        let again = try scenario.kek.run(["rotate", "--rewrap-only", "--wait"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM keks"), 2)
    }

    func testRotationRefusedUpFrontWhenTheWrapBudgetIsTooSmall() throws {
        let scenario = try RotationScenario(secrets: 50)
        XCTAssertEqual(try scenario.kek.run(["keys", "wrap-limit", "40"]).status, 0)
        let status = try scenario.kek.run(["status", "--json"])
        XCTAssertTrue(status.stdout.contains(#""wrap_limit":40"#) || status.stdout.contains(#""wrap_limit" : 40"#), status.stdout)
        let plan = try scenario.kek.run(["rotate", "--plan"])
        XCTAssertEqual(plan.status, 1)
        XCTAssertTrue(plan.stderr.contains("refusing to rotate: 50 DEKs"), plan.stderr)
        let rotate = try scenario.kek.run(["rotate"])
        XCTAssertEqual(rotate.status, 1)
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM jobs"), 0)
        XCTAssertEqual(try scenario.kek.run(["keys", "wrap-limit", "4294967297"]).status, 2)
    }
}
