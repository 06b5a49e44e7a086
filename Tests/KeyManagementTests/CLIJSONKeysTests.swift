import Foundation
import JobQueue
@testable import KeyManagement
import XCTest

/// The key-domain types `kek ... --json` prints moved from the old CLI writer (key strategy
/// `convertToSnakeCase`) to `JSONCodec` (each type's own coding keys). Scripts read those keys,
/// so the bytes must be what they were: each type is encoded both ways and compared.
final class CLIJSONKeysTests: XCTestCase {
    /// The writer `kek` used before (Sources/kek/Support/JSONOutput.swift).
    private func legacy<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private let project = UUID(uuidString: "0b9a0c5e-2f57-4d0e-9b7a-3c1d2e4f5a6b")!
    private let when = Date(timeIntervalSince1970: 1_800_000_000)

    func testRotationPlanKeysAreUnchanged() throws {
        let plan = RotationPlan(
            keks: [.init(id: 1, state: .active, deks: 10, wrapCount: 12, wrapHeadroom: 100)],
            projects: [.init(projectId: project, secrets: 3, signingKeys: 1)], deksToRewrap: 10, measuredRate: 2500.5,
            estimatedSeconds: 0.004, wrapLimit: 112, generatesKek: true, targetKek: nil, targetHeadroom: 112)
        XCTAssertEqual(try JSONCodec.encodePretty(plan), try legacy(plan))
        XCTAssertTrue(try JSONCodec.encodePretty(plan).contains("\"deks_to_rewrap\""))
    }

    func testProjectInventoryKeysAreUnchanged() throws {
        let projects = [ProjectInventory.Project(projectId: project, secrets: 2, signingKeys: 1, envImports: 1, lastImportAt: when),
                        ProjectInventory.Project(projectId: project, secrets: 0, signingKeys: 0, envImports: 0, lastImportAt: nil)]
        XCTAssertEqual(try JSONCodec.encodePretty(projects), try legacy(projects))
    }

    func testAuditEntryKeysAreUnchanged() throws {
        let entry = AuditLog.Entry(id: 7, at: when, login: "kek_worker_login", actor: "ops", action: "kek.retired", target: "kek:2",
                                   details: #"{"rows": 3}"#, hash: "ab", prevHash: "cd", hashVersion: 2)
        XCTAssertEqual(try JSONCodec.encodePretty([entry]), try legacy([entry]))
        XCTAssertTrue(try JSONCodec.encodePretty(entry).contains("\"prev_hash\""))
    }

    /// `kek audit verify --json` printed a CLI struct restating these fields; it prints the domain type now.
    func testAuditVerificationPrintsWhatTheCLIStructPrinted() throws {
        struct Printed: Encodable {
            var intact: Bool
            var rows: Int
            var firstBrokenRow: Int64?
            var headHash: String?
            var headProblem: String?
        }
        let intact = AuditLog.Verification(rows: 4, firstBrokenRow: nil, head: AuditLog.Head(id: 4, hash: String(repeating: "a", count: 64)))
        let broken = AuditLog.Verification(rows: 4, firstBrokenRow: 2, head: nil, headProblem: "row 3 is gone")
        for result in [intact, broken] {
            let printed = Printed(intact: result.intact, rows: result.rows, firstBrokenRow: result.firstBrokenRow,
                                  headHash: result.headHash, headProblem: result.headProblem)
            XCTAssertEqual(try JSONCodec.encodePretty(result), try legacy(printed))
        }
    }
}
