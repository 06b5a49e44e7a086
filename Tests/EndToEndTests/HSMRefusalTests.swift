import Foundation
import TestSupport
import XCTest

/// Keyring entries naming an HSM key that cannot be used: each is an error that names what is
/// wrong (never the PIN), and nothing is written.
final class HSMRefusalTests: XCTestCase {
    func testUnusableHSMEntriesAreNamedAndNothingIsWritten() throws {
        let scenario = try HSMScenario(secrets: 50)
        let token = scenario.token
        _ = try scenario.keygenInToken("root-ok")
        _ = try scenario.pythonClient(["make-extractable", SoftHSMToken.modulePath, "kek", "loose"])
        let canary = "pin-canary-9137"
        let cases: [(entry: String, environment: [String: String], expected: String)] = [
            (token.uri(object: "root-ok", pinFile: false), ["KEK_PKCS11_PIN": canary], "C_Login failed with CKR_PIN_INCORRECT"),
            (token.uri(object: "root-ok", pinFile: false), [:], "KEK_PKCS11_PIN is not set"),
            (token.uri(object: "root-ok", module: "/nonexistent/libmissing.so"), [:], "cannot load PKCS#11 module /nonexistent/libmissing.so"),
            (token.uri(object: "root-ok", token: "nosuch"), [:], "no PKCS#11 token labelled 'nosuch'"),
            (token.uri(object: "no-such-key"), [:], "no AES secret key object labelled 'no-such-key' in PKCS#11 token 'kek'"),
            (token.uri(object: "loose"), [:], "key object 'loose' in PKCS#11 token 'kek' is refused: it is extractable"),
        ]
        let before = try snapshot(scenario)
        for (entry, environment, expected) in cases {
            let kek = scenario.kek(keyring: "hsm:\(entry),\(HSMScenario.envRoot1)", extra: environment)
            for command in [["rotate-root"], ["keys", "generate", "--activate"]] {
                let outcome = try kek.run(command)
                let printed = outcome.stdout + outcome.stderr
                XCTAssertEqual(outcome.status, 1, "\(command) with \(entry): \(printed)")
                XCTAssertTrue(printed.contains("root key 'hsm' cannot be used: "), printed)
                XCTAssertTrue(printed.contains(expected), "\(command) with \(entry): \(printed)")
                XCTAssertFalse(printed.contains(canary), printed)
                XCTAssertFalse(printed.contains(SoftHSMToken.pin), printed)
            }
        }
        XCTAssertEqual(try snapshot(scenario), before, "a refused root key must leave the store as it was")
        XCTAssertEqual(try scenario.count("SELECT count(*) FROM audit_log WHERE details::text LIKE '%canary%' OR details::text LIKE $1",
                                          ["%\(SoftHSMToken.pin)%"]), 0)
    }

    private func snapshot(_ scenario: HSMScenario) throws -> [String] {
        let keks = try scenario.connection.query(
            "SELECT id::text || ' ' || root_key_id || ' ' || state || ' ' || coalesce(encode(wrapped_key, 'hex'), '') FROM keks ORDER BY id")
            .map { try $0.decode(0, as: String.self) }
        return keks + ["audit \(try scenario.count("SELECT count(*) FROM audit_log"))", "jobs \(try scenario.count("SELECT count(*) FROM jobs"))"]
    }
}
