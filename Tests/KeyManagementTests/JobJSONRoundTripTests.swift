import Foundation
@testable import KeyManagement
import XCTest

/// Job arguments and checkpoints survive `JobJSON`'s snake_case round trip, including
/// property names with acronyms (`fromKek`, `afterId`), which the worker reads back after
/// every claim. Without it, every rotation part failed at its first claim.
final class JobJSONRoundTripTests: XCTestCase {
    func testRotationTypesRoundTrip() throws {
        let part = RewrapPart(fromKek: 1, toKek: 2, afterId: 10, upToId: 20)
        let arguments = RewrapPartArguments(part: part, batchSize: 500, maxRate: nil)
        let text = try JobJSON.encode(arguments)
        XCTAssertTrue(text.contains(#""from_kek":1"#), text)
        XCTAssertEqual(try JobJSON.decode(RewrapPartArguments.self, from: text).part, part)

        let failure = RewrapFailure(dekId: 7, reason: "tag")
        let checkpoint = RewrapPartCheckpoint(afterId: 15, rewrapped: 5, failures: [failure])
        let decoded = try JobJSON.decode(RewrapPartCheckpoint.self, from: try JobJSON.encode(checkpoint))
        XCTAssertEqual(decoded.afterId, 15)
        XCTAssertEqual(decoded.failures, [failure])

        let start = RotationStart(newKek: 3, oldKeks: [1, 2], total: 99)
        let rotation = RotationCheckpoint(phase: .parts, start: start, startedAt: 1)
        let back = try JobJSON.decode(RotationCheckpoint.self, from: try JobJSON.encode(rotation))
        XCTAssertEqual(back.start.newKek, 3)
        XCTAssertEqual(back.start.oldKeks, [1, 2])

        let reencrypt = ReencryptHandler.Checkpoint(keks: [1], afterId: 25, newKek: 4)
        XCTAssertEqual(try JobJSON.decode(ReencryptHandler.Checkpoint.self, from: try JobJSON.encode(reencrypt)).afterId, 25)
    }
}
