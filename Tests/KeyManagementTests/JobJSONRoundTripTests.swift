import Foundation
import JobQueue
@testable import KeyManagement
import XCTest

/// Every job payload type a key handler writes (arguments, checkpoints, results) goes through
/// `JSONCodec`, the one codec the runner decodes with: written, read back, equal. Each fixed
/// value must also give exactly the bytes the old `JobJSON` (snake_case key strategy) wrote
/// for it — produced by that encoder over the types as they were at 72cdc4f — so the coding
/// keys cannot drift and jobs queued by an older kek still decode.
final class JobJSONRoundTripTests: XCTestCase {
    private let failure = RewrapFailure(dekId: 7, reason: "authentication tag mismatch")
    private var failureJSON: String { #"{"dek_id":7,"reason":"authentication tag mismatch"}"# }

    /// `value` encodes to exactly `bytes`, and `bytes` decodes to `value`.
    private func assertWire<T: Codable & Equatable>(_ value: T, _ bytes: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try JSONCodec.encode(value), bytes, "\(T.self)", file: file, line: line)
        XCTAssertEqual(try JSONCodec.decode(T.self, from: bytes), value, "\(T.self)", file: file, line: line)
    }

    func testRotationPayloads() throws {
        try assertWire(RotationArguments(batchSize: 500, parts: 4, maxRate: 1500.5, rewrapOnly: true),
                       #"{"batch_size":500,"max_rate":1500.5,"parts":4,"rewrap_only":true}"#)
        try assertWire(RotationArguments(), "{}")
        let part = RewrapPart(fromKek: 1, toKek: 2, afterId: 10, upToId: 20)
        try assertWire(RewrapPartArguments(part: part, batchSize: 500, maxRate: 250),
                       #"{"batch_size":500,"max_rate":250,"part":{"after_id":10,"from_kek":1,"to_kek":2,"up_to_id":20}}"#)
        try assertWire(RewrapPartCheckpoint(afterID: 15, rewrapped: 5, failures: [failure]),
                       #"{"after_id":15,"failures":[\#(failureJSON)],"rewrapped":5}"#)
        try assertWire(RewrapPartResult(rewrapped: 5, failures: [failure]), #"{"failures":[\#(failureJSON)],"rewrapped":5}"#)
        let start = RotationStart(newKek: 3, oldKeks: [1, 2], total: 99, generatedKek: true)
        try assertWire(RotationCheckpoint(phase: .sweep, start: start, startedAt: 1764633600.25, partsDone: 90, swept: 8,
                                          failures: [failure]),
                       #"{"failures":[\#(failureJSON)],"parts_done":90,"phase":"sweep","#
                       + #""start":{"generated_kek":true,"new_kek":3,"old_keks":[1,2],"total":99},"started_at":1764633600.25,"swept":8}"#)
        try assertWire(RotationResult(newKek: 3, retiredKeks: [1, 2], rewrapped: 98, seconds: 12.5),
                       #"{"new_kek":3,"retired_keks":[1,2],"rewrapped":98,"seconds":12.5}"#)
    }

    func testReencryptionPayloads() throws {
        try assertWire(ReencryptArguments(kekIds: [4, 5], batchSize: 100, maxRate: 50, lockWaitSeconds: 30),
                       #"{"batch_size":100,"kek_ids":[4,5],"lock_wait_seconds":30,"max_rate":50}"#)
        try assertWire(ReencryptArguments(all: true), #"{"all":true}"#)
        try assertWire(ReencryptHandler.Checkpoint(keks: [4], index: 1, afterId: 25, replaced: 3, rewrapped: 1, values: 6,
                                                   failures: [failure], newKek: 6),
                       #"{"after_id":25,"failures":[\#(failureJSON)],"index":1,"keks":[4],"new_kek":6,"replaced":3,"rewrapped":1,"values":6}"#)
        try assertWire(ReencryptResult(deksReplaced: 3, deksRewrapped: 1, values: 6, newKek: 6, note: "kept"),
                       #"{"deks_replaced":3,"deks_rewrapped":1,"new_kek":6,"note":"kept","values":6}"#)
    }

    func testVerificationAndRetiredPayloads() throws {
        try assertWire(VerificationArguments(values: true), #"{"values":true}"#)
        var report = VerificationReport()
        report.deksPerKek = [3: 10, 2: 30000]
        report.keksChecked = 2
        report.deksChecked = 30010
        report.valuesChecked = 5
        report.failures = [VerificationFailure(table: "data_keys", id: "9", reason: "tag")]
        report.unopenableRetiredKEKs = [1]
        let bytes = #"{"deks_checked":30010,"deks_per_kek":[{"deks":30000,"kek_id":2},{"deks":10,"kek_id":3}],"#
            + #""failures":[{"id":"9","reason":"tag","table":"data_keys"}],"keks_checked":2,"unopenable_retired_keks":[1],"values_checked":5}"#
        XCTAssertEqual(try JSONCodec.encode(report), bytes)
        XCTAssertEqual(try JSONCodec.encode(try JSONCodec.decode(VerificationReport.self, from: bytes)), bytes)
        // A retired import_env row holds whatever its enqueuer wrote (every field of the old
        // request set here); it decodes without reading any, so the job fails with the refusal.
        XCTAssertNoThrow(try JSONCodec.decode(RetiredEnvImportArguments.self, from: #"""
            {"project": "web", "env_file": "/etc/app.env", "prefix": "APP_", "strip_prefix": true, "on_conflict": "skip", "dry_run": true}
            """#))
    }

    /// Each typed request names the kind its handler is registered under.
    func testRequestsCarryTheirKindAndTheCodecBytes() throws {
        let rotation = try KeyJobKinds.rotationRequest(RotationArguments(parts: 2))
        XCTAssertEqual(rotation.kind, "rotate_kek")
        XCTAssertEqual(rotation.argumentsJSON, #"{"parts":2}"#)
        let reencryption = try KeyJobKinds.reencryptionRequest(ReencryptArguments(kekIds: [3]))
        XCTAssertEqual(reencryption.kind, "reencrypt")
        XCTAssertEqual(reencryption.argumentsJSON, #"{"kek_ids":[3]}"#)
        var registry = JobHandlerRegistry()
        KeyJobKinds.register(into: &registry, actor: "test")
        XCTAssertEqual(registry.kinds, ["import_env", "reencrypt", "rewrap_part", "rotate_kek", "verify"])
        XCTAssertThrowsError(try registry.validate(kind: "rotate_kek", argumentsJSON: #"{"parts": "eight"}"#)) {
            XCTAssertEqual("\($0)", "a rotate_kek job: arguments cannot be decoded as RotationArguments: 'parts' is not Int")
        }
        XCTAssertNoThrow(try registry.validate(kind: "rotate_kek", argumentsJSON: #"{"parts": 8}"#))
    }
}
