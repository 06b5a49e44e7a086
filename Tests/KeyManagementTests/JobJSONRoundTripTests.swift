import Foundation
@testable import KeyManagement
import XCTest

/// Job arguments and checkpoints survive `JobJSON`'s snake_case round trip, including
/// property names with acronyms (`fromKEK`, `afterID`), which the worker reads back after
/// every claim. Without it, every rotation part failed at its first claim.
final class JobJSONRoundTripTests: XCTestCase {
    func testRotationTypesRoundTrip() throws {
        let part = RewrapPart(fromKEK: 1, toKEK: 2, afterID: 10, upToID: 20)
        let arguments = RewrapPartArguments(part: part, batchSize: 500, maxRate: nil)
        let text = try JobJSON.encode(arguments)
        XCTAssertTrue(text.contains(#""from_kek":1"#), text)
        XCTAssertEqual(try JobJSON.decode(RewrapPartArguments.self, from: text).part, part)

        let failure = RewrapFailure(dekID: 7, reason: "tag")
        let checkpoint = RewrapPartCheckpoint(afterID: 15, rewrapped: 5, failures: [failure])
        let decoded = try JobJSON.decode(RewrapPartCheckpoint.self, from: try JobJSON.encode(checkpoint))
        XCTAssertEqual(decoded.afterID, 15)
        XCTAssertEqual(decoded.failures, [failure])

        let start = RotationStart(newKEK: 3, oldKEKs: [1, 2], total: 99)
        let rotation = RotationCheckpoint(phase: .parts, start: start, startedAt: 1)
        let back = try JobJSON.decode(RotationCheckpoint.self, from: try JobJSON.encode(rotation))
        XCTAssertEqual(back.start.newKEK, 3)
        XCTAssertEqual(back.start.oldKEKs, [1, 2])

        let reencrypt = ReencryptHandler.Checkpoint(keks: [1], upTo: 50, afterID: 25)
        XCTAssertEqual(try JobJSON.decode(ReencryptHandler.Checkpoint.self, from: try JobJSON.encode(reencrypt)).afterID, 25)
    }
}
