import KeyManagement
import XCTest

/// `--head ID:HASH` parsing, without a database.
final class AuditHeadTests: XCTestCase {
    func testParsesWhatHeadPrintsAndRefusesAnythingElse() {
        let hash = String(repeating: "ab", count: 32)
        let head = AuditLog.Head(parsing: "42:" + hash.uppercased())
        XCTAssertEqual(head, AuditLog.Head(id: 42, hash: hash))
        XCTAssertEqual(head?.description, "42:" + hash)
        for bad in ["", "42", "42:", ":" + hash, "0:" + hash, "-1:" + hash, "x:" + hash, "42:" + hash.dropLast(), "42:" + hash + "0",
                    "42:" + String(repeating: "zz", count: 32), "42:" + hash + ":1"] {
            XCTAssertNil(AuditLog.Head(parsing: bad), bad)
        }
    }
}
