import EnvelopeCrypto
import KeyWrapping
import XCTest

/// The check value of a root key held in memory, against a value computed with Python's hmac.
final class RootKeyCheckTests: XCTestCase {
    func testInMemoryCheckValueIsTruncatedHMACSHA256OfTheLabel() throws {
        // python3 -c "import hmac,hashlib; print(hmac.new(bytes([42]*32), b'kek/v1|root-key-check', hashlib.sha256).hexdigest()[:32])"
        let root = try RootKeyCipher(id: "r", key: SymmetricKey(bytes: [UInt8](repeating: 42, count: 32)))
        XCTAssertEqual(Hex.encode(try root.checkValue()), "85e14c94a7b2f992dbb0a9fe5f486a5d")
        XCTAssertEqual(root.checkScheme, "hmac-sha256-16/v1")
    }
}
