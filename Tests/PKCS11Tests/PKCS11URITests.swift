import PKCS11
import XCTest

final class PKCS11URITests: XCTestCase {
    func testParsesTokenObjectModuleAndPinFile() throws {
        let uri = try PKCS11URI.parse("pkcs11:token=kek;object=root%2C2027;type=secret-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin")
        XCTAssertEqual(uri, PKCS11URI(token: "kek", object: "root,2027", modulePath: "/usr/lib/softhsm/libsofthsm2.so", pinFile: "/run/pin"))
    }

    func testRefusesPinValueWithoutEchoingIt() {
        XCTAssertThrowsError(try PKCS11URI.parse("pkcs11:token=kek;object=r?module-path=/m.so&pin-value=s3cr3t-canary")) { error in
            XCTAssertFalse("\(error)".contains("s3cr3t-canary"), "\(error)")
            XCTAssertTrue("\(error)".contains("pin-value"), "\(error)")
        }
    }

    func testNamesWhatIsMissingOrUnknown() {
        let cases = [
            ("pkcs11:object=r?module-path=/m.so", "token="),
            ("pkcs11:token=kek?module-path=/m.so", "object="),
            ("pkcs11:token=kek;object=r", "module-path="),
            ("pkcs11:token=kek;objet=r?module-path=/m.so", "'objet'"),
            ("pkcs11:token=kek;object=r;type=private?module-path=/m.so", "type=private"),
            ("pkcs11:token=kek;object=r?module-path=/m.so&pin-source=relative", "pin-source"),
            ("pkcs11:token=k%4;object=r?module-path=/m.so", "'token'"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try PKCS11URI.parse(text), text) { XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)") }
        }
    }
}
