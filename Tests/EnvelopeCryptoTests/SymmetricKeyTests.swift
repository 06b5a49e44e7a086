import Foundation
import XCTest

@testable import EnvelopeCrypto

final class SymmetricKeyTests: XCTestCase {
    func testDescriptionShowsOnlyFingerprint() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let key = try SymmetricKey(bytes: bytes)
        let hex = Hex.encode(bytes)
        let base64 = Data(bytes).base64EncodedString()
        for text in ["\(key)", String(reflecting: key), key.description, key.debugDescription, "\([key])"] {
            XCTAssertFalse(text.lowercased().contains(hex.prefix(16)), text)
            XCTAssertFalse(text.contains(base64.prefix(12)), text)
            XCTAssertTrue(text.contains(key.fingerprint), text)
        }
        XCTAssertEqual(key.fingerprint, String(Hex.encode(SHA256.hash(bytes)).prefix(8)))
        XCTAssertEqual(key.fingerprint.count, 8)
    }

    func testLengthIsEnforced() {
        for count in [0, 16, 31, 33, 64] {
            XCTAssertThrowsError(try SymmetricKey(bytes: [UInt8](repeating: 1, count: count))) {
                XCTAssertEqual($0 as? EnvelopeError, .invalidKeyLength(count))
            }
        }
    }

    func testRandomKeysDifferAndCompare() throws {
        let a = try SymmetricKey.random(), b = try SymmetricKey.random()
        XCTAssertFalse(a.constantTimeEquals(b))
        XCTAssertNotEqual(a.fingerprint, b.fingerprint)
        let copy = try a.withUnsafeBytes { try SymmetricKey(copying: $0) }
        XCTAssertTrue(copy.constantTimeEquals(a))
    }
}
