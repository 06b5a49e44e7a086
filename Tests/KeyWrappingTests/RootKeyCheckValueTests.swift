import EnvelopeCrypto
import KeyWrapping
import XCTest

/// The check value is an interoperability contract (README, "Root key check value").
final class RootKeyCheckValueTests: XCTestCase {
    func testWorkedExampleOfTheReadme() throws {
        let key = try SymmetricKey(bytes: Array(0..<32))
        XCTAssertEqual(RootKeyCheckValue(of: key).description, "4390d27409ed1c2f2ca80c5bb6f2b691")
        XCTAssertEqual(try RootKeyCipher(id: "r1", key: key).checkValue(), RootKeyCheckValue(of: key))
        // The fixture root key of the end-to-end tests (32 bytes of 42), computed with Python's hmac.
        XCTAssertEqual(RootKeyCheckValue(of: try SymmetricKey(bytes: Array(repeating: 42, count: 32))).description,
                       "85e14c94a7b2f992dbb0a9fe5f486a5d")
    }

    func testDifferentKeysDifferAndTheValueIsNotTheKey() throws {
        let a = try SymmetricKey.random()
        let b = try SymmetricKey.random()
        XCTAssertNotEqual(RootKeyCheckValue(of: a), RootKeyCheckValue(of: b))
        XCTAssertEqual(RootKeyCheckValue(of: a).bytes.count, 16)
        let keyBytes = a.withUnsafeBytes { Array($0) }
        XCTAssertNotEqual(Array(keyBytes.prefix(16)), RootKeyCheckValue(of: a).bytes)
    }
}
