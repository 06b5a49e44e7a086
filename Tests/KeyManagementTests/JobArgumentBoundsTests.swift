import Foundation
import JobQueue
@testable import KeyManagement
import XCTest

/// The documented bounds of rotation and re-encryption arguments hold for every way in:
/// JSON (the HTTP body, a job row) and values built in code (the CLI).
final class JobArgumentBoundsTests: XCTestCase {
    func testRotationBodiesOutsideTheBoundsAreRefused() throws {
        for body in [#"{"max_rate": null}"#, #"{"max_rate": 0}"#, #"{"max_rate": -5}"#, #"{"max_rate": 1e-300}"#,
                     #"{"max_rate": 1e400}"#, #"{"parts": 9223372036854775807}"#, #"{"batch_size": 9223372036854775807}"#,
                     #"{"parts": 0}"#, #"{"batch_size": null}"#] {
            XCTAssertThrowsError(try JSONCodec.decode(RotationArguments.self, from: body), body)
        }
        let fine = try JSONCodec.decode(RotationArguments.self, from: #"{"max_rate": 2000, "parts": 8, "batch_size": 500}"#)
        XCTAssertEqual(fine.maxRate, 2000)
        XCTAssertNil(try JSONCodec.decode(RotationArguments.self, from: "{}").maxRate)
        XCTAssertThrowsError(try RotationArguments(maxRate: .infinity).validate())
        XCTAssertThrowsError(try RotationArguments(maxRate: .nan).validate())
    }

    func testReencryptionNeedsExactlyOneTarget() throws {
        XCTAssertThrowsError(try ReencryptArguments().validate())
        XCTAssertThrowsError(try ReencryptArguments(kekIds: [], all: nil).validate())
        XCTAssertThrowsError(try ReencryptArguments(kekIds: [3], all: true).validate())
        XCTAssertNoThrow(try ReencryptArguments(kekIds: [3]).validate())
        XCTAssertNoThrow(try ReencryptArguments(all: true).validate())
        XCTAssertThrowsError(try JSONCodec.decode(ReencryptArguments.self, from: #"{"kek_ids": [3], "max_rate": 1e-300}"#))
        let error = try XCTUnwrap(
            (try? JSONCodec.decode(ReencryptArguments.self, from: #"{"all": true, "max_rate": null}"#)) == nil ? "refused" : nil)
        XCTAssertEqual(error, "refused")
    }

    func testAThrottledBatchIsAtMostAQuarterSecondOfTheCap() {
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(2000, maxRate: 200), 50)
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(2000, maxRate: nil), 2000)
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(2000, maxRate: 1), 1)
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(10, maxRate: 2000), 10)
    }

    /// A short burst for the applications beside a throttled rotation: 25 ms of the cap, at least 100 rows.
    func testAThrottledBatchIsTwentyFiveMillisecondsOfTheCapAndAtLeastAHundredRows() {
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(2000, maxRate: 25_000), 625)
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(2000, maxRate: 2000), 100)
        XCTAssertEqual(JobArgumentBounds.throttledBatchSize(2000, maxRate: 1_000_000), 2000)
    }
}
