import Foundation
import XCTest

@testable import EnvelopeCrypto

final class EnvelopeTests: XCTestCase {
    let aad = Array("row/v1|id=42".utf8)
    let plaintext = Array("thirty-two bytes of plaintext!!!".utf8)

    func makeContext() throws -> AESGCMContext { try AESGCMContext(key: SymmetricKey.random()) }

    func testRoundTripAndLayout() throws {
        let context = try makeContext()
        let envelope = try context.seal(plaintext, aad: aad)
        XCTAssertEqual(envelope.count, 1 + 12 + plaintext.count + 16)
        XCTAssertEqual(envelope[0], 0x01)
        XCTAssertNotEqual(Array(envelope[13..<45]), plaintext)
        XCTAssertEqual(try context.open(envelope, aad: aad), plaintext)
        // Random nonces: sealing twice gives different envelopes.
        XCTAssertNotEqual(try context.seal(plaintext, aad: aad), envelope)
    }

    func testEmptyPlaintextAndEmptyAAD() throws {
        let context = try makeContext()
        let envelope = try context.seal([], aad: [])
        XCTAssertEqual(envelope.count, Envelope.minimumLength)
        XCTAssertEqual(try context.open(envelope, aad: []), [])
        XCTAssertThrowsError(try context.open(envelope, aad: [0])) {
            XCTAssertEqual($0 as? EnvelopeError, .authenticationFailed)
        }
    }

    func testSealCount() throws {
        let context = try makeContext()
        XCTAssertEqual(context.sealCount, 0)
        let envelope = try context.seal(plaintext, aad: aad)
        _ = try context.seal(SymmetricKey.random(), aad: aad)
        _ = try context.open(envelope, aad: aad)
        XCTAssertEqual(context.sealCount, 2, "opens are not counted")
        XCTAssertEqual(context.takeSealCount(), 2)
        XCTAssertEqual(context.sealCount, 0)
    }

    // MARK: - Negative tests: every failure is a distinct error and never yields plaintext

    private func assertOpenFails(
        _ envelope: [UInt8], aad: [UInt8], context: AESGCMContext, _ expected: EnvelopeError,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try context.open(envelope, aad: aad), file: file, line: line) { error in
            XCTAssertEqual(error as? EnvelopeError, expected, file: file, line: line)
        }
        // The buffer form must leave nothing behind either.
        var output = [UInt8](repeating: 0xEE, count: max(envelope.count, 64))
        let threw = envelope.withUnsafeBytes { env in
            aad.withUnsafeBytes { aad in
                output.withUnsafeMutableBytes { out in
                    (try? context.open(env, aad: aad, into: out)) == nil
                }
            }
        }
        XCTAssertTrue(threw, file: file, line: line)
        let plaintextLeaked = output.count >= plaintext.count
            && output.indices.dropLast(plaintext.count - 1).contains { Array(output[$0..<$0 + plaintext.count]) == plaintext }
        XCTAssertFalse(plaintextLeaked, "plaintext left in caller buffer", file: file, line: line)
    }

    func testFlippedBitsFailAuthentication() throws {
        let context = try makeContext()
        let envelope = try context.seal(plaintext, aad: aad)
        for (name, index) in [("nonce", 1), ("nonce end", 12), ("ciphertext", 13), ("ciphertext end", 44),
                              ("tag", 45), ("tag end", envelope.count - 1)] {
            var tampered = envelope
            tampered[index] ^= 0x01
            XCTAssertThrowsError(try context.open(tampered, aad: aad), name) {
                XCTAssertEqual($0 as? EnvelopeError, .authenticationFailed, name)
            }
            assertOpenFails(tampered, aad: aad, context: context, .authenticationFailed)
        }
        var tamperedAAD = aad
        tamperedAAD[0] ^= 0x01
        assertOpenFails(envelope, aad: tamperedAAD, context: context, .authenticationFailed)
        assertOpenFails(envelope, aad: aad + [0], context: context, .authenticationFailed)
        assertOpenFails(envelope, aad: [], context: context, .authenticationFailed)
    }

    func testWrongKey() throws {
        let envelope = try makeContext().seal(plaintext, aad: aad)
        assertOpenFails(envelope, aad: aad, context: try makeContext(), .authenticationFailed)
    }

    func testTruncated() throws {
        let context = try makeContext()
        let envelope = try context.seal(plaintext, aad: aad)
        for length in [0, 1, 13, 28] {
            assertOpenFails(Array(envelope.prefix(length)), aad: aad, context: context,
                            .truncated(length: length, minimum: 29))
        }
        // Cut inside the ciphertext: still long enough, so the tag check catches it.
        assertOpenFails(Array(envelope.prefix(envelope.count - 1)), aad: aad, context: context, .authenticationFailed)
        XCTAssertTrue("\(EnvelopeError.truncated(length: 12, minimum: 29))".contains("12 bytes found, at least 29"))
    }

    func testUnknownVersion() throws {
        let context = try makeContext()
        var envelope = try context.seal(plaintext, aad: aad)
        envelope[0] = 0x02
        assertOpenFails(envelope, aad: aad, context: context, .unknownVersion(0x02))
        XCTAssertTrue("\(EnvelopeError.unknownVersion(0x02))".contains("0x02"))
        XCTAssertNotEqual(EnvelopeError.unknownVersion(2), .authenticationFailed)
    }

    func testAuthenticationErrorTextNamesCauses() {
        let text = "\(EnvelopeError.authenticationFailed)"
        for word in ["wrong key", "tampered", "associated data"] { XCTAssertTrue(text.contains(word), word) }
    }

    // MARK: - Keys in envelopes

    func testOpenKeyAndReseal() throws {
        let first = try makeContext(), second = try makeContext()
        let key = try SymmetricKey.random()
        let wrapped = try first.seal(key, aad: aad)
        XCTAssertEqual(wrapped.count, 61)
        XCTAssertTrue(try first.openKey(wrapped, aad: aad).constantTimeEquals(key))

        let newAAD = Array("row/v1|id=43".utf8)
        let rewrapped = try first.reseal(wrapped, aad: aad, under: second, aad: newAAD)
        XCTAssertEqual(second.sealCount, 1)
        XCTAssertTrue(try second.openKey(rewrapped, aad: newAAD).constantTimeEquals(key))
        XCTAssertThrowsError(try second.openKey(rewrapped, aad: aad)) {
            XCTAssertEqual($0 as? EnvelopeError, .authenticationFailed)
        }
        XCTAssertThrowsError(try first.reseal(rewrapped, aad: newAAD, under: second, aad: newAAD)) {
            XCTAssertEqual($0 as? EnvelopeError, .authenticationFailed)
        }
    }

    func testOpenKeyRejectsOtherSizes() throws {
        let context = try makeContext()
        let envelope = try context.seal([1, 2, 3], aad: aad)
        XCTAssertThrowsError(try context.openKey(envelope, aad: aad)) {
            XCTAssertEqual($0 as? EnvelopeError, .plaintextLengthMismatch(expected: 32, found: 3))
        }
    }

    // MARK: - Interoperability

    /// An envelope made by Python's `cryptography` (see Vectors/interop-python.txt).
    func testPythonInteropFixture() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Vectors/interop-python.txt", withExtension: nil))
        var fields: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            fields[String(parts[0])] = String(parts[1])
        }
        let key = try SymmetricKey(bytes: XCTUnwrap(Hex.decode(fields["key"]!)))
        let envelope = try XCTUnwrap(Hex.decode(fields["envelope"]!))
        let aad = Array(try XCTUnwrap(fields["aad"]).utf8)
        XCTAssertEqual(fields["aad"], "dek/v1|dek=42|kek=7")
        let context = try AESGCMContext(key: key)
        XCTAssertEqual(Hex.encode(try context.open(envelope, aad: aad)), fields["plaintext"])
        XCTAssertEqual(Hex.encode(envelope[1..<13]), fields["nonce"])
        let opened = try context.openKey(envelope, aad: aad)
        XCTAssertEqual(opened.withUnsafeBytes { Hex.encode($0) }, fields["plaintext"])
        XCTAssertThrowsError(try context.open(envelope, aad: Array("dek/v1|dek=43|kek=7".utf8)))
    }

    // MARK: - Helpers

    func testSHA256AndHex() {
        XCTAssertEqual(Hex.encode(SHA256.hash([UInt8]())),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Hex.encode(SHA256.hash("abc")),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hex.decode("00ffAB"), [0x00, 0xff, 0xab])
        XCTAssertNil(Hex.decode("0"))
        XCTAssertNil(Hex.decode("zz"))
    }

    func testRandomBytes() throws {
        let a = try randomBytes(count: 32), b = try randomBytes(count: 32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(try randomBytes(count: 0), [])
    }
}
