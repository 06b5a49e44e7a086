import Foundation
import JobQueue
@testable import StatusAPI
import XCTest

/// What unauthenticated readers get: scrubbed free text, only configured Host names, and the
/// token rule off loopback. No database needed.
final class PublicExposureTests: XCTestCase {
    func testScrubDropsQuotedTextDetailUserInfoAndKeyLikeRuns() {
        let key = "q2V0IHRoaXMgaXMgYSBrZXkgb2YgMzIgYnl0ZXM="
        let cases: [(String, [String], [String])] = [
            (#"duplicate key value violates unique constraint "s_name" DETAIL: Key (name)=(S3cret) already exists."#,
             ["duplicate key value violates unique constraint"], ["S3cret", "s_name"]),
            ("could not connect to postgres://app:S3cretPw@db/prod", ["could not connect to postgres://"], ["S3cretPw", "app:"]),
            ("key list entry 1 (id \"root-a\"): bad key \(key)", ["key list entry 1"], [key, String(key.prefix(20))]),
            ("invalid input syntax for type uuid: 'x-S3cret", ["invalid input syntax"], ["S3cret"]),
            ("job 12 of project 6f1c4c52-43a4-4f53-a5e8-2d7b8f0b9a11 failed\nsecond line", ["6f1c4c52-43a4-4f53-a5e8-2d7b8f0b9a11", "failed second line"], ["\n"]),
        ]
        for (text, kept, dropped) in cases {
            let scrubbed = PublicText.scrub(text)
            for part in kept { XCTAssertTrue(scrubbed.contains(part), "\(scrubbed) lost '\(part)'") }
            for part in dropped { XCTAssertFalse(scrubbed.contains(part), "\(scrubbed) kept '\(part)'") }
        }
        XCTAssertLessThanOrEqual(PublicText.scrub(String(repeating: "word ", count: 500)).count, PublicText.maximumLength + 3)
    }

    func testHostAllowListAnswersOnlyConfiguredNames() {
        let loopback = HostAllowList(listenHost: "127.0.0.1", extraNames: ["kek.internal"])
        for host in ["127.0.0.1:9187", "localhost", "LOCALHOST:1", "[::1]:9187", "kek.internal", "kek.internal.:80"] {
            XCTAssertTrue(loopback.allows(host), host)
        }
        for host in ["attacker.example", "attacker.example:9187", "127.0.0.1.attacker.example", "", "[::1", "x:y", "10.0.0.1"] {
            XCTAssertFalse(loopback.allows(host), host)
        }
        XCTAssertFalse(loopback.allows(nil), "a request without Host")
        let wildcard = HostAllowList(listenHost: "0.0.0.0")
        XCTAssertTrue(wildcard.allows("10.1.2.3:9187"), "a wildcard listener answers IP literals")
        XCTAssertTrue(wildcard.allows("[fe80::1]:9187"))
        XCTAssertFalse(wildcard.allows("attacker.example"))
        XCTAssertFalse(wildcard.allows("localhost"))
    }

    func testNonLoopbackNeedsTheTokenForReadsUnlessPublicReads() {
        var open = StatusConfiguration(databaseURL: "unused")
        open.http.host = "0.0.0.0"
        XCTAssertNotNil(open.requireTokenOffLoopback(publicReads: false), "no token, not loopback: refused")
        XCTAssertNil(open.requireTokenOffLoopback(publicReads: true))
        XCTAssertFalse(open.requireTokenForReads)
        var tokened = open
        tokened.token = BearerToken("t0ken")
        XCTAssertNil(tokened.requireTokenOffLoopback(publicReads: false))
        XCTAssertTrue(tokened.requireTokenForReads)
        var local = StatusConfiguration(databaseURL: "unused")
        XCTAssertNil(local.requireTokenOffLoopback(publicReads: false))
        XCTAssertFalse(local.requireTokenForReads)
    }

    func testDurationsRefuseInfinityNaNNegativeAndAbsurd() {
        XCTAssertEqual(JobDuration.seconds("90s"), 90)
        XCTAssertEqual(JobDuration.seconds("1.5m"), 90)
        XCTAssertEqual(JobDuration.seconds("3650d"), JobDuration.maximumSeconds)
        for text in ["infs", "infd", "-infs", "nans", "-1s", "3651d", "1e300s", "1e400d", "s", "", "10", "10w"] {
            XCTAssertNil(JobDuration.seconds(text), text)
        }
    }
}
