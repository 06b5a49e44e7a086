import EnvelopeCrypto
import KeyWrapping
@testable import PKCS11
import TestSupport
import XCTest

/// The HSM root key against a private SoftHSM2 token, in this process.
final class PKCS11RootKeyTests: XCTestCase {
    private var token: SoftHSMToken { get throws { try SoftHSMToken.shared() } }

    private func newKey(_ prefix: String = "t") throws -> PKCS11RootKey {
        let token = try token
        let label = "\(prefix)-\(UUID().uuidString.prefix(8))"
        return try PKCS11RootKey.generate(id: label, uri: try PKCS11URI.parse(token.uri(object: label)), environment: [:])
    }

    func testWrapsIntoEnvelopeV1AndUnwrapsInsideTheToken() throws {
        let root = try newKey()
        let kek = try SymmetricKey.random()
        let envelope = try root.wrapKEK(kek, kekID: 7)
        XCTAssertEqual(envelope.count, 1 + 12 + 32 + 16)
        XCTAssertEqual(envelope[0], 0x01)
        XCTAssertNotEqual(try root.wrapKEK(kek, kekID: 7), envelope, "each wrap draws a new nonce")
        XCTAssertTrue(try root.unwrapKEK(envelope, kekID: 7).constantTimeEquals(kek))
        // The AAD binds the row: another KEK id fails its tag, like an in-memory key.
        XCTAssertThrowsError(try root.unwrapKEK(envelope, kekID: 8)) { error in
            XCTAssertEqual((error as? KeyWrappingError)?.reason, .authenticationFailed, "\(error)")
        }
        var tampered = envelope
        tampered[20] ^= 1
        XCTAssertThrowsError(try root.unwrapKEK(tampered, kekID: 7)) { error in
            XCTAssertEqual((error as? KeyWrappingError)?.reason, .authenticationFailed, "\(error)")
        }
        XCTAssertThrowsError(try root.unwrapKEK(Array(envelope.prefix(20)), kekID: 7))
    }

    func testCheckValueIsStablePerKeyAndDiffersBetweenKeys() throws {
        let first = try newKey()
        let second = try newKey()
        XCTAssertEqual(try first.checkValue().bytes.count, 16)
        XCTAssertEqual(try first.checkValue(), try first.checkValue())
        XCTAssertNotEqual(try first.checkValue(), try second.checkValue())
        XCTAssertEqual(try first.checkValue().scheme, "aes-cmac-16/v1")
        let reopened = try PKCS11RootKey.open(id: first.rootKeyID, uri: first.uri, environment: [:])
        XCTAssertEqual(try reopened.checkValue(), try first.checkValue())
    }

    func testGenerateRefusesALabelInUse() throws {
        let root = try newKey()
        XCTAssertThrowsError(try PKCS11RootKey.generate(id: "x", uri: root.uri, environment: [:])) { error in
            XCTAssertEqual(error as? PKCS11Error, .objectExists(label: root.uri.object, token: "kek"))
        }
    }

    /// Canary: the token refuses to hand out the key's bytes, even to a logged-in session.
    func testTheTokenRefusesToRevealTheKeyValue() throws {
        let root = try newKey("canary")
        let token = try token
        let module = try PKCS11Module.load(path: SoftHSMToken.modulePath)
        let session = try PKCS11Session.open(module: module, tokenLabel: "kek",
                                             pin: try PIN.load(file: token.pinFile, environment: [:], variable: "unused"), pinOrigin: "test")
        let key = try session.secretKey(label: root.uri.object)
        XCTAssertThrowsError(try session.requestValueAttribute(of: key)) { error in
            guard case let .call(function, code, _)? = error as? PKCS11Error else { return XCTFail("\(error)") }
            XCTAssertEqual(function, "C_GetAttributeValue")
            XCTAssertEqual(code, "CKR_ATTRIBUTE_SENSITIVE")
        }
        XCTAssertFalse(try session.boolAttribute(UInt(0x162), of: key), "CKA_EXTRACTABLE")
    }

    func testUnknownObjectAndTokenAreNamed() throws {
        let token = try token
        XCTAssertThrowsError(try PKCS11RootKey.open(id: "r", uri: try PKCS11URI.parse(token.uri(object: "no-such-key")), environment: [:])) {
            XCTAssertEqual($0 as? PKCS11Error, .objectNotFound(label: "no-such-key", token: "kek"))
        }
        XCTAssertThrowsError(try PKCS11RootKey.open(id: "r", uri: try PKCS11URI.parse(token.uri(object: "x", token: "nope")), environment: [:])) {
            XCTAssertEqual($0 as? PKCS11Error, .tokenNotFound(label: "nope", module: SoftHSMToken.modulePath, available: ["kek"]))
        }
        XCTAssertThrowsError(try PKCS11RootKey.open(id: "r", uri: try PKCS11URI.parse(token.uri(object: "x", module: "/nonexistent/lib.so")), environment: [:])) {
            XCTAssertTrue("\($0)".contains("cannot load PKCS#11 module /nonexistent/lib.so"), "\($0)")
        }
    }

    func testReturnCodesAreNamed() {
        XCTAssertEqual(ReturnCode.name(0xa0), "CKR_PIN_INCORRECT")
        XCTAssertEqual(ReturnCode.name(0x11), "CKR_ATTRIBUTE_SENSITIVE")
        XCTAssertEqual(ReturnCode.name(0x8000_0001), "CKR_VENDOR_DEFINED+0x1")
    }
}
