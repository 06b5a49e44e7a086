import Foundation
import XCTest

/// `kek bench` through the CLI on a few hundred rows, so every measurement path keeps working
/// (no timing is asserted: the figures of so small a run mean nothing).
final class BenchEndToEndTests: XCTestCase {
    private struct Report: Decodable {
        struct Results: Decodable {
            struct Line: Decodable {
                var name: String
                var role: String
                var rows: Int
                var seconds: Double
                var databaseMicrosecondsPerRow: Double?
            }
            struct Latency: Decodable {
                var label: String
                var inserts: Int
                var p99Milliseconds: Double
            }
            struct Explain: Decodable { var rows: Int }
            struct Pair: Decodable {
                struct Timeline: Decodable { var parts: Int; var partsSeconds: Double }
                var statementsSeconds: Double
                var rotationSeconds: Double
                var rotation: Timeline?
            }
            var lines: [Line]
            var firstRowsPairs: [Pair]
            var latencies: [Latency]
            var explain: Explain?
        }
        struct Aim: Decodable { var name: String }
        var results: Results
        var aims: [Aim]
    }

    func testBenchMeasuresEveryBaselineRotationAndApplicationLatency() throws {
        let outcome = try KekBinary(databaseURL: nil).run(["bench", "--rows", "400", "--first", "200", "--batch-size", "100", "--idle", "1s",
                                                                "--json"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let report = try decoder.decode(Report.self, from: Data(outcome.stdout.utf8))
        let byRole = Dictionary(report.results.lines.map { ($0.role, $0) }, uniquingKeysWith: { first, _ in first })
        for role in ["sameStatements", "rewriteLoop", "singleUpdate", "rotation1", "rotation2"] {
            let line = try XCTUnwrap(byRole[role], "no \(role) line in \(outcome.stdout)")
            XCTAssertEqual(line.rows, 400, line.name)
            XCTAssertGreaterThan(line.seconds, 0, line.name)
        }
        // The first 200 rows, measured on their own in three interleaved pairs, before the rest were seeded.
        for role in ["smallSameStatements", "small"] {
            let line = try XCTUnwrap(byRole[role], "no \(role) line in \(outcome.stdout)")
            XCTAssertEqual(line.rows, 200, line.name)
            XCTAssertTrue(line.name.contains("median of 3"), line.name)
        }
        XCTAssertEqual(report.results.firstRowsPairs.count, 3)
        for pair in report.results.firstRowsPairs {
            XCTAssertGreaterThan(pair.statementsSeconds, 0)
            XCTAssertGreaterThan(pair.rotationSeconds, 0)
            // The rotation's default split (one part per 50,000 DEKs, at least one), claimed and timed by its job row.
            XCTAssertEqual(pair.rotation?.parts, 1)
        }
        // The throwaway cluster preloads pg_stat_statements (shipped with the postgresql package).
        XCTAssertNotNil(byRole["sameStatements"]?.databaseMicrosecondsPerRow)
        XCTAssertEqual(report.results.explain?.rows, 100)
        XCTAssertEqual(report.results.latencies.map(\.label).count, 3)
        for latency in report.results.latencies { XCTAssertGreaterThan(latency.inserts, 0, latency.label) }
        // Verification opened every DEK, the application's included, after all the restores.
        let verified = try XCTUnwrap(report.results.lines.last)
        XCTAssertTrue(verified.name.contains("verification"), verified.name)
        XCTAssertGreaterThanOrEqual(verified.rows, 400)
        XCTAssertEqual(report.aims.count, 9)
    }
}
