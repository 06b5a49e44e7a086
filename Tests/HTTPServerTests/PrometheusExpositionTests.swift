import XCTest
import HTTPServer

final class PrometheusExpositionTests: XCTestCase {
    func testFamilyAndSamples() throws {
        var out = PrometheusExposition()
        try out.family("kek_jobs_total", type: .counter, help: "Jobs run, by state.")
        try out.sample("kek_jobs_total", labels: [("state", "done")], value: 3)
        try out.sample("kek_jobs_total", labels: [("state", "failed"), ("queue", "q1")], value: 0)
        try out.family("kek_lag_seconds", type: .gauge, help: "Lag.")
        try out.sample("kek_lag_seconds", value: 0.25)
        XCTAssertEqual(out.text, """
            # HELP kek_jobs_total Jobs run, by state.
            # TYPE kek_jobs_total counter
            kek_jobs_total{state="done"} 3
            kek_jobs_total{state="failed",queue="q1"} 0
            # HELP kek_lag_seconds Lag.
            # TYPE kek_lag_seconds gauge
            kek_lag_seconds 0.25

            """)
    }

    func testNames() {
        for valid in ["a", "_a", ":a", "a:b_c9", "kek_x"] { XCTAssertTrue(PrometheusExposition.isValidMetricName(valid), valid) }
        for invalid in ["", "9a", "a-b", "a b", "a.b", "é"] { XCTAssertFalse(PrometheusExposition.isValidMetricName(invalid), invalid) }
        XCTAssertTrue(PrometheusExposition.isValidLabelName("le"))
        XCTAssertFalse(PrometheusExposition.isValidLabelName("__name__"))
        XCTAssertFalse(PrometheusExposition.isValidLabelName("a:b"))
        var out = PrometheusExposition()
        XCTAssertThrowsError(try out.family("bad-name", type: .gauge, help: "")) {
            XCTAssertEqual($0 as? PrometheusExposition.Error, .invalidMetricName("bad-name"))
        }
        XCTAssertThrowsError(try out.sample("ok", labels: [("a", "1"), ("a", "2")], value: 1))
        XCTAssertThrowsError(try out.sample("ok", labels: [("0a", "1")], value: 1))
        XCTAssertNoThrow(try out.family("ok", type: .gauge, help: ""))
        XCTAssertThrowsError(try out.family("ok", type: .gauge, help: ""))
        XCTAssertEqual(out.text, "# HELP ok \n# TYPE ok gauge\n")
    }

    func testEscaping() throws {
        XCTAssertEqual(PrometheusExposition.escapeLabelValue("a\\b\"c\nd"), #"a\\b\"c\nd"#)
        XCTAssertEqual(PrometheusExposition.escapeLabelValue("x\r\ny"), "x\r\\ny")  // CRLF is one Character; still escaped
        XCTAssertEqual(PrometheusExposition.escapeHelp("a\\b\"c\r\nd"), "a\\\\b\"c\r\\nd")
        var out = PrometheusExposition()
        try out.sample("m", labels: [("path", "/a\"\n")], value: 1)
        XCTAssertEqual(out.text, "m{path=\"/a\\\"\\n\"} 1\n")
    }

    func testValues() {
        XCTAssertEqual(PrometheusExposition.formatValue(.infinity), "+Inf")
        XCTAssertEqual(PrometheusExposition.formatValue(-.infinity), "-Inf")
        XCTAssertEqual(PrometheusExposition.formatValue(.nan), "NaN")
        XCTAssertEqual(PrometheusExposition.formatValue(42), "42")
        XCTAssertEqual(PrometheusExposition.formatValue(-7), "-7")
        XCTAssertEqual(PrometheusExposition.formatValue(0.1), "0.1")
        XCTAssertEqual(PrometheusExposition.formatValue(1e300), "1e+300")
        XCTAssertEqual(PrometheusExposition.formatValue(9_007_199_254_740_992), "9007199254740992")
        XCTAssertEqual(Double(PrometheusExposition.formatValue(1.0 / 3.0)), 1.0 / 3.0)
    }
}
