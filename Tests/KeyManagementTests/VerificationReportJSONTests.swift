import JobQueue
import KeyManagement
import XCTest

/// `deks_per_kek` is written as objects and read in both forms (a job result stored before
/// the change holds the flat `[id, count]` array a numeric-keyed dictionary encodes to).
final class VerificationReportJSONTests: XCTestCase {
    func testPerKEKCountsAreObjectsAndTheFlatFormStillDecodes() throws {
        var report = VerificationReport()
        report.deksPerKek = [3: 10, 2: 30000]
        report.keksChecked = 2
        report.deksChecked = 30010
        let text = try JSONCodec.encode(report)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let counts = try XCTUnwrap(object["deks_per_kek"] as? [[String: Int]], text)
        XCTAssertEqual(counts, [["kek_id": 2, "deks": 30000], ["kek_id": 3, "deks": 10]])
        XCTAssertEqual(try JSONCodec.decode(VerificationReport.self, from: text).deksPerKek, report.deksPerKek)

        let legacy = #"{"deks_per_kek":[2,30000,3,10],"keks_checked":2,"deks_checked":30010,"values_checked":0,"failures":[]}"#
        XCTAssertEqual(try JSONCodec.decode(VerificationReport.self, from: legacy).deksPerKek, [2: 30000, 3: 10])
    }
}
