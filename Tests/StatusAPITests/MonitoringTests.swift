import Foundation
import HTTPTestSupport
import TestSupport
import XCTest

/// The operator material in runbooks/monitoring/: the alerting rules pass promtool's checks
/// and their own unit tests, and the rules and the dashboard only use metrics kek exposes.
final class MonitoringTests: XCTestCase {
    private let folder = ExternalTool.repositoryRoot.appendingPathComponent("runbooks/monitoring")
    /// Metrics the rules may read that this status server does not serve (none today).
    private let documentedElsewhere: Set<String> = []

    private func promtool() throws -> String {
        try XCTUnwrap(ExternalTool.find("promtool"), "promtool is installed by .ci/setup (package prometheus)")
    }

    func testRulesPassPromtoolCheckAndUnitTests() throws {
        let check = try ExternalTool.run(try promtool(), ["check", "rules", "kek-alerts.rules.yml"], in: folder)
        XCTAssertEqual(check.status, 0, check.output)
        let tests = try ExternalTool.run(try promtool(), ["test", "rules", "kek-alerts.test.yml"], in: folder)
        XCTAssertEqual(tests.status, 0, tests.output)
        print(check.output + tests.output)
    }

    func testEveryAlertHasASummarySeverityRunbookAndBothKindsOfTestCase() throws {
        let rules = try String(contentsOf: folder.appendingPathComponent("kek-alerts.rules.yml"), encoding: .utf8)
        let tests = try String(contentsOf: folder.appendingPathComponent("kek-alerts.test.yml"), encoding: .utf8)
        let runbook = try String(contentsOf: ExternalTool.repositoryRoot.appendingPathComponent("runbooks/alerts.md"), encoding: .utf8)
        let blocks = rules.components(separatedBy: "- alert: ").dropFirst()
        XCTAssertGreaterThanOrEqual(blocks.count, 10)
        for block in blocks {
            let name = String(block.prefix { !$0.isWhitespace })
            XCTAssertTrue(block.contains("summary:"), name)
            XCTAssertTrue(block.contains("severity: critical") || block.contains("severity: warning"), name)
            let anchor = try XCTUnwrap(block.range(of: "alerts.md#").map { String(block[$0.upperBound...].prefix { !$0.isWhitespace }) })
            XCTAssertTrue(runbook.lowercased().contains("## \(anchor)"), "runbooks/alerts.md has no section #\(anchor) for \(name)")
            // A firing case lists exp_labels; a non-firing one has exp_alerts: [].
            let cases = tests.components(separatedBy: "- name: ").filter { $0.contains("alertname: \(name)\n") }
            XCTAssertTrue(cases.contains { $0.contains("exp_labels") }, "\(name) has no firing test case")
            XCTAssertTrue(cases.contains { $0.contains("exp_alerts: []") }, "\(name) has no non-firing test case")
        }
    }

    func testRulesAndDashboardUseOnlyExposedMetrics() throws {
        let fixture = try StatusFixture()
        try fixture.seed(5)
        let (server, base) = try StatusFixture.start(try fixture.configuration())
        defer { server.stop() }
        let exposition = try Curl.request(base + "/metrics").text
        let exposed = Set(exposition.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("# TYPE ") ? String(line.split(separator: " ")[2]) : nil
        })
        let dashboardData = try Data(contentsOf: folder.appendingPathComponent("kek-dashboard.json"))
        let dashboard = try XCTUnwrap(try JSONSerialization.jsonObject(with: dashboardData) as? [String: Any])
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        XCTAssertGreaterThan(panels.count, 10)
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        let rules = try String(contentsOf: folder.appendingPathComponent("kek-alerts.rules.yml"), encoding: .utf8)
        for (source, text) in [("dashboard", expressions.joined(separator: "\n")), ("rules", rules)] {
            let used = Set(text.matches(of: /kek_[a-z_]+/).map { String($0.output) })
                .filter { !$0.hasSuffix("_") && $0 != "kek_id" }  // kek_id is a label
            XCTAssertFalse(used.isEmpty)
            let unknown = used.subtracting(exposed).subtracting(documentedElsewhere)
            XCTAssertEqual(unknown, [], "\(source) uses metrics /metrics does not expose")
        }
    }
}
