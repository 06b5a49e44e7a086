import Foundation
import HTTPTestSupport
import TestSupport
import XCTest

/// One job's state, done and rate as each view shows it, read one after the other:
/// `kek status --json`, `kek jobs show --json`, `/status` and `/metrics`.
struct ProgressViews {
    struct View: CustomStringConvertible {
        var name: String
        var state: String?
        var done: Double
        var rate: Double
        var description: String { "\(name): \(state ?? "-") done \(Int(done)) at \(Int(rate))/s" }
    }

    var views: [View] = []

    init(kek: KekBinary, statusBase: String, job: Int64) throws {
        func object(_ text: String) throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
        }
        var total = 0.0
        func fromReport(_ name: String, _ text: String) throws -> View {
            let jobs = try XCTUnwrap(try object(text)["jobs"] as? [[String: Any]])
            let entry = try XCTUnwrap(jobs.first { ($0["id"] as? Int).map(Int64.init) == job }, text)
            total = (entry["total"] as? Double) ?? 0
            return View(name: name, state: entry["state"] as? String, done: (entry["done"] as? Double) ?? 0,
                        rate: (entry["rows_per_second"] as? Double) ?? 0)
        }
        views.append(try fromReport("kek status --json", try kek.run(["status", "--json"]).stdout))
        let shown = try object(try kek.run(["jobs", "show", "--json", String(job)]).stdout)
        let progress = try XCTUnwrap(shown["progress"] as? [String: Any])
        views.append(View(name: "kek jobs show --json", state: progress["state"] as? String,
                          done: (progress["done"] as? Double) ?? 0, rate: (progress["rows_per_second"] as? Double) ?? 0))
        views.append(try fromReport("/status", try Curl.request(statusBase + "/status").text))
        let metrics = try Curl.request(statusBase + "/metrics").text
        func sample(_ family: String) -> Double {
            // Series are per kind (bounded labels); the test runs one rotation at a time.
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("\(family){kind=\"rotate_kek\"") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? -1
        }
        // /metrics has no done: its ratio times the total the reports give.
        views.append(View(name: "/metrics", state: nil, done: sample("kek_job_progress_ratio") * total,
                          rate: sample("kek_job_rows_per_second")))
    }

    /// Every view says the same state and, within `tolerance`, the same done and rate.
    func assertAgree(tolerance: Double, file: StaticString = #filePath, line: UInt = #line) {
        let reference = views[0]
        for view in views.dropFirst() {
            if let state = view.state { XCTAssertEqual(state, reference.state, "\(views)", file: file, line: line) }
            XCTAssertEqual(view.done, reference.done, accuracy: reference.done * tolerance, "\(views)", file: file, line: line)
            XCTAssertEqual(view.rate, reference.rate, accuracy: reference.rate * tolerance, "\(views)", file: file, line: line)
        }
    }
}
