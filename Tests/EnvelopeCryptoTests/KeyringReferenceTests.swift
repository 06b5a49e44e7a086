import EnvelopeCrypto
import Foundation
import XCTest

/// Keyring entries that name a key held elsewhere (a PKCS#11 URI) instead of holding it.
final class KeyringReferenceTests: XCTestCase {
    private let env = "old:" + Data(repeating: 0x11, count: 32).base64EncodedString()
    private let uri = "pkcs11:token=kek;object=root-2027?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin"

    func testMixedKeyringKeepsTheURIAsAReference() throws {
        let keyring = try Keyring.parse("root-2027:\(uri),\n\(env)\n")
        XCTAssertEqual(keyring.ids, ["root-2027", "old"])
        XCTAssertEqual(keyring.reference(id: "root-2027"), uri)
        XCTAssertNil(keyring.key(id: "root-2027"))
        XCTAssertNil(keyring.active, "the active entry's bytes are not in this process")
        XCTAssertNotNil(keyring.key(id: "old"))
        XCTAssertNil(keyring.reference(id: "old"))
        XCTAssertEqual("\(keyring)".contains("root-2027=pkcs11"), true, "\(keyring)")
    }

    func testIdsOfReferencesAreCheckedLikeAnyOther() {
        XCTAssertThrowsError(try Keyring.parse("bad id:\(uri)")) {
            XCTAssertEqual($0 as? KeyringError, .invalidID(position: 1, length: 6))
        }
        XCTAssertThrowsError(try Keyring.parse("a:\(uri),a:\(uri)")) {
            XCTAssertEqual($0 as? KeyringError, .duplicateID(position: 2, id: "a", firstPosition: 1))
        }
    }
}
