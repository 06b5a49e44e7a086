import EnvelopeCrypto
import Foundation
import KeyWrapping
import XCTest

final class KeyWrappingTests: XCTestCase {
    let secretID = UUID(uuidString: "9F1C2B3A-4D5E-4F60-8172-93A4B5C6D7E8")!
    let projectID = UUID(uuidString: "00000000-0000-4000-8000-00000000ABCD")!

    func testAADStrings() {
        XCTAssertEqual(String(decoding: AAD.kek(id: 7, rootKeyID: "root-2024"), as: UTF8.self), "kek/v1|kek=7|root=root-2024")
        XCTAssertEqual(String(decoding: AAD.dek(id: 42, kekID: 7), as: UTF8.self), "dek/v1|dek=42|kek=7")
        XCTAssertEqual(String(decoding: AAD.dek(id: 0, kekID: 0), as: UTF8.self), "dek/v1|dek=0|kek=0")
        XCTAssertEqual(String(decoding: AAD.dek(id: Int64.max, kekID: Int32.max), as: UTF8.self),
                       "dek/v1|dek=9223372036854775807|kek=2147483647")
        XCTAssertEqual(String(decoding: AAD.dek(id: -5, kekID: 1), as: UTF8.self), "dek/v1|dek=-5|kek=1")
        XCTAssertEqual(String(decoding: AAD.secret(id: secretID, projectID: projectID), as: UTF8.self),
                       "secret/v1|id=9f1c2b3a-4d5e-4f60-8172-93a4b5c6d7e8|project=00000000-0000-4000-8000-00000000abcd")
        XCTAssertEqual(String(decoding: AAD.signingKey(id: secretID, projectID: projectID), as: UTF8.self),
                       "sigkey/v1|id=9f1c2b3a-4d5e-4f60-8172-93a4b5c6d7e8|project=00000000-0000-4000-8000-00000000abcd")
    }

    func testKEKUnderRootKey() throws {
        let root = try RootKeyCipher(id: "r1", key: SymmetricKey.random())
        let kek = try KeyGenerator.newKEK()
        let wrapped = try root.wrapKEK(kek, kekID: 3)
        XCTAssertEqual(wrapped.count, 61)
        XCTAssertTrue(try root.unwrapKEK(wrapped, kekID: 3).constantTimeEquals(kek))
        XCTAssertEqual(root.wrapCount, 1)
        XCTAssertThrowsError(try root.unwrapKEK(wrapped, kekID: 4)) { error in
            let wrapping = error as? KeyWrappingError
            XCTAssertEqual(wrapping?.reason, .authenticationFailed)
            XCTAssertEqual(wrapping?.subject, .kek(id: 4, rootKeyID: "r1"))
        }
        let otherRoot = try RootKeyCipher(id: "r1", key: SymmetricKey.random())
        XCTAssertThrowsError(try otherRoot.unwrapKEK(wrapped, kekID: 3))
    }

    func testDEKWrapUnwrapAndRowBinding() throws {
        let kek = try KEKCipher(id: 7, key: KeyGenerator.newKEK())
        let dek = try KeyGenerator.newDEK()
        let wrapped = try kek.wrapDEK(dek, dekID: 42)
        XCTAssertTrue(try kek.unwrapDEK(wrapped, dekID: 42).constantTimeEquals(dek))

        // The envelope of row 42 copied onto row 43 must not open.
        XCTAssertThrowsError(try kek.unwrapDEK(wrapped, dekID: 43)) { error in
            let wrapping = try? XCTUnwrap(error as? KeyWrappingError)
            XCTAssertEqual(wrapping?.reason, .authenticationFailed)
            XCTAssertEqual(wrapping?.operation, .unwrap)
            XCTAssertEqual(wrapping?.subject, .dek(id: 43, kekID: 7))
            XCTAssertTrue("\(error)".hasPrefix("cannot unwrap DEK 43 (KEK 7): envelope failed authentication"), "\(error)")
        }
        // Truncated and unknown-version envelopes fail with their own reasons.
        var truncated = wrapped
        truncated.removeLast(40)
        XCTAssertThrowsError(try kek.unwrapDEK(truncated, dekID: 42)) {
            XCTAssertEqual(($0 as? KeyWrappingError)?.reason, .truncated(length: 21, minimum: 29))
        }
        var versioned = wrapped
        versioned[0] = 9
        XCTAssertThrowsError(try kek.unwrapDEK(versioned, dekID: 42)) {
            XCTAssertEqual(($0 as? KeyWrappingError)?.reason, .unknownVersion(9))
        }
    }

    func testRewrap() throws {
        let kekA = try KEKCipher(id: 1, key: KeyGenerator.newKEK())
        let kekB = try KEKCipher(id: 2, key: KeyGenerator.newKEK())
        let dek = try KeyGenerator.newDEK()
        let old = try kekA.wrapDEK(dek, dekID: 1000)
        let new = try KEKCipher.rewrapDEK(old, dekID: 1000, from: kekA, to: kekB)
        XCTAssertEqual(new.count, 61)
        XCTAssertNotEqual(Array(new[1..<13]), Array(old[1..<13]), "a fresh nonce")
        XCTAssertTrue(try kekB.unwrapDEK(new, dekID: 1000).constantTimeEquals(dek))
        XCTAssertThrowsError(try kekA.unwrapDEK(new, dekID: 1000), "old KEK cannot open it")
        XCTAssertEqual(kekB.takeWrapCount(), 1)
        XCTAssertEqual(kekB.wrapCount, 0)

        // Wrong row: named in the error, no output.
        XCTAssertThrowsError(try KEKCipher.rewrapDEK(old, dekID: 1001, from: kekA, to: kekB)) { error in
            let wrapping = error as? KeyWrappingError
            XCTAssertEqual(wrapping?.subject, .dek(id: 1001, kekID: 1))
            XCTAssertEqual(wrapping?.targetKEKID, 2)
            XCTAssertEqual(wrapping?.reason, .authenticationFailed)
            XCTAssertTrue("\(error)".contains("cannot rewrap DEK 1001 from KEK 1 to KEK 2"), "\(error)")
        }
        XCTAssertEqual(kekB.wrapCount, 0, "a failed rewrap seals nothing")

        // A DEK row holding something other than a 32-byte key is refused.
        XCTAssertThrowsError(try KEKCipher.rewrapDEK(Array(old.prefix(40)), dekID: 1000, from: kekA, to: kekB)) {
            XCTAssertEqual(($0 as? KeyWrappingError)?.reason, .plaintextLengthMismatch(expected: 32, found: 11))
        }
        var versioned = old
        versioned[0] = 0x00
        XCTAssertThrowsError(try KEKCipher.rewrapDEK(versioned, dekID: 1000, from: kekA, to: kekB)) {
            XCTAssertEqual(($0 as? KeyWrappingError)?.reason, .unknownVersion(0))
        }
        XCTAssertThrowsError(try KEKCipher.rewrapDEK(Array(old.prefix(28)), dekID: 1000, from: kekA, to: kekB)) {
            XCTAssertEqual(($0 as? KeyWrappingError)?.reason, .truncated(length: 28, minimum: 29))
        }
        XCTAssertEqual(kekB.wrapCount, 0, "failed rewraps seal nothing")
    }

    func testSecretsAndSigningKeys() throws {
        let dek = try DEKCipher(id: 5, key: KeyGenerator.newDEK())
        let value = Array("sk_live_canary_4f1d".utf8)
        let sealed = try dek.sealSecret(value, id: secretID, projectID: projectID)
        XCTAssertEqual(try dek.openSecret(sealed, id: secretID, projectID: projectID), value)
        XCTAssertThrowsError(try dek.openSecret(sealed, id: secretID, projectID: UUID())) { error in
            XCTAssertEqual((error as? KeyWrappingError)?.reason, .authenticationFailed)
            XCTAssertFalse("\(error)".contains("canary"))
        }
        // A secret's ciphertext is not a signing key's, even with the same ids.
        XCTAssertThrowsError(try dek.openSigningKey(sealed, id: secretID, projectID: projectID))

        let signing = try randomBytes(count: 64)
        let sealedKey = try dek.sealSigningKey(signing, id: secretID, projectID: projectID)
        XCTAssertEqual(try dek.openSigningKey(sealedKey, id: secretID, projectID: projectID), signing)
        XCTAssertEqual(dek.sealCount, 2)
    }
}
