import Foundation
import XCTest

@testable import EnvelopeCrypto

final class KeyringTests: XCTestCase {
    // Test keys only: 32 bytes of 0x11 and of 0x22.
    let keyA = Data(repeating: 0x11, count: 32).base64EncodedString()
    let keyB = Data(repeating: 0x22, count: 32).base64EncodedString()

    func testParsesListInOrder() throws {
        let keyring = try Keyring.parse(" root-2024.b:\(keyB) ,\n root_1:\(keyA)\n")
        XCTAssertEqual(keyring.ids, ["root-2024.b", "root_1"])
        XCTAssertEqual(keyring.activeID, "root-2024.b")
        XCTAssertTrue(try XCTUnwrap(keyring.active).constantTimeEquals(SymmetricKey(bytes: [UInt8](repeating: 0x22, count: 32))))
        XCTAssertTrue(try XCTUnwrap(keyring.key(id: "root_1")).constantTimeEquals(SymmetricKey(bytes: [UInt8](repeating: 0x11, count: 32))))
        XCTAssertNil(keyring.key(id: "missing"))
        XCTAssertFalse("\(keyring)".contains(keyA.prefix(12)))
        XCTAssertFalse("\(keyring)".contains(keyB.prefix(12)))
    }

    func testOneEntryALineIsAListToo() throws {
        XCTAssertEqual(try Keyring.parse("new:\(keyB)\nold:\(keyA)\n").ids, ["new", "old"])
        XCTAssertEqual(try Keyring.parse("new:\(keyB)\r\n\r\nold:\(keyA)\r\n").ids, ["new", "old"])
        XCTAssertEqual(try Keyring.parse("a:\(keyB),\nb:\(keyA)\nc:\(keyB)").ids, ["a", "b", "c"])
        assertFails("a:\(keyA)\nb:\(keyB.dropLast())", .invalidBase64(position: 2, id: "b", length: 43))
    }

    /// Parses `text`, expects `expected`, and checks the message never contains key text.
    private func assertFails(_ text: String, _ expected: KeyringError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Keyring.parse(text), file: file, line: line) { error in
            XCTAssertEqual(error as? KeyringError, expected, file: file, line: line)
            let message = "\(error) \(String(reflecting: error)) \(error.localizedDescription)"
            for key in [keyA, keyB] {
                XCTAssertFalse(message.contains(key.prefix(8)), "key text in: \(message)", file: file, line: line)
            }
        }
    }

    func testErrors() {
        assertFails("", .emptyList)
        assertFails(" \n\t", .emptyList)
        assertFails(",", .emptyList)
        assertFails("a:\(keyA),,b:\(keyB)", .emptyEntry(position: 2))
        assertFails("a:\(keyA),", .emptyEntry(position: 2))
        assertFails("a:\(keyA),\(keyB)", .missingSeparator(position: 2))
        assertFails(":\(keyA)", .emptyID(position: 1))
        assertFails("a b:\(keyA)", .invalidID(position: 1, length: 3))
        assertFails("a|b:\(keyA)", .invalidID(position: 1, length: 3))
        assertFails("\(keyA):a", .invalidID(position: 1, length: 44))
        assertFails("a:\(keyA.dropLast())", .invalidBase64(position: 1, id: "a", length: 43))
        assertFails("a:\(keyA.replacingOccurrences(of: "E", with: "*"))", .invalidBase64(position: 1, id: "a", length: 44))
        // URL-safe base64 ("-" and "_" for "+" and "/") is not accepted.
        let urlSafe = Data(repeating: 0xfb, count: 32).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        XCTAssertTrue(urlSafe.contains("-"))
        assertFails("a:\(keyA),b:\(urlSafe)", .invalidBase64(position: 2, id: "b", length: 44))
        assertFails("a:\(keyA) x", .invalidBase64(position: 1, id: "a", length: 46))
        assertFails("a:", .wrongKeyLength(position: 1, id: "a", length: 0))
        assertFails("a:\(Data(repeating: 1, count: 16).base64EncodedString())", .wrongKeyLength(position: 1, id: "a", length: 16))
        assertFails("a:\(Data(repeating: 1, count: 33).base64EncodedString())", .wrongKeyLength(position: 1, id: "a", length: 33))
        assertFails("a:\(keyA),b:\(keyB),a:\(keyB)", .duplicateID(position: 3, id: "a", firstPosition: 1))
    }

    func testErrorMessagesNameEntryAndReason() {
        XCTAssertEqual("\(KeyringError.wrongKeyLength(position: 2, id: "old", length: 16))",
                       "key list entry 2 (id \"old\"): key decodes to 16 bytes, 32 are required")
        XCTAssertTrue("\(KeyringError.duplicateID(position: 3, id: "a", firstPosition: 1))".contains("entry 3"))
        XCTAssertTrue("\(KeyringError.missingSeparator(position: 1))".contains("':'"))
        XCTAssertTrue("\(KeyringError.invalidBase64(position: 1, id: "a", length: 7))".contains("key of 7 characters is not valid base64"))
    }

    func testEnvironmentAndFile() throws {
        let names = (variable: "TEST_KEYS", fileVariable: "TEST_KEYS_FILE")
        let inline = try Keyring.fromEnvironment(["TEST_KEYS": "a:\(keyA)"], variable: names.variable, fileVariable: names.fileVariable)
        XCTAssertEqual(inline.keyring.ids, ["a"])
        XCTAssertNil(inline.warning)

        XCTAssertThrowsError(try Keyring.fromEnvironment([:], variable: names.variable, fileVariable: names.fileVariable)) {
            XCTAssertEqual($0 as? KeyringError, .notConfigured(variable: "TEST_KEYS", fileVariable: "TEST_KEYS_FILE"))
        }
        XCTAssertThrowsError(try Keyring.fromEnvironment(["TEST_KEYS": "a:\(keyA)", "TEST_KEYS_FILE": "/x"],
                                                         variable: names.variable, fileVariable: names.fileVariable)) {
            XCTAssertEqual($0 as? KeyringError, .ambiguousConfiguration(variable: "TEST_KEYS", fileVariable: "TEST_KEYS_FILE"))
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyring-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("keys").path
        try Data("b:\(keyB),\na:\(keyA)\n".utf8).write(to: URL(fileURLWithPath: path))

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let strict = try Keyring.fromEnvironment(["TEST_KEYS_FILE": path], variable: names.variable, fileVariable: names.fileVariable)
        XCTAssertEqual(strict.keyring.ids, ["b", "a"])
        XCTAssertNil(strict.warning)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let loose = try Keyring.load(contentsOfFile: path)
        XCTAssertEqual(loose.keyring.ids, ["b", "a"])
        let warning = try XCTUnwrap(loose.warning)
        XCTAssertTrue(warning.contains("644") && warning.contains(path), warning)

        XCTAssertThrowsError(try Keyring.load(contentsOfFile: directory.appendingPathComponent("none").path)) { error in
            guard case .unreadableFile(_, let reason)? = error as? KeyringError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("No such file"), reason)
        }
        XCTAssertThrowsError(try Keyring.load(contentsOfFile: directory.path)) {
            XCTAssertEqual($0 as? KeyringError, .unreadableFile(path: directory.path, reason: "not a regular file"))
        }
    }

    func testBase64Strictness() throws {
        func length(_ text: String) -> Int? {
            var text = text
            return text.withUTF8 { Base64.decodedLength(UnsafeRawBufferPointer($0)) }
        }
        XCTAssertEqual(length("QUJD"), 3)
        XCTAssertEqual(length("QUI="), 2)
        XCTAssertEqual(length("QQ=="), 1)
        XCTAssertNil(length("QR=="), "non-canonical trailing bits")
        XCTAssertNil(length("QUJ"), "missing padding")
        XCTAssertNil(length("Q=JD"), "padding in the middle")
    }
}
