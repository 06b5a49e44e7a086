import Foundation
import XCTest

@testable import EnvelopeCrypto

/// NIST CAVP AES-256-GCM known-answer tests (96-bit IV, 128-bit tag); see Vectors/README.txt.
final class CAVPTests: XCTestCase {
    struct Vector {
        var fields: [String: String] = [:]
        var fails = false
        func bytes(_ name: String) throws -> [UInt8] {
            let text = try XCTUnwrap(fields[name], "missing \(name) in vector \(fields["Count"] ?? "?")")
            return try XCTUnwrap(Hex.decode(text), "bad hex in \(name)")
        }
    }

    /// Parses a CAVP .rsp file: `[Param = v]` section headers, then blank-line separated entries
    /// of `Name = hex` lines, where a bare `FAIL` line marks a vector whose tag must not verify.
    static func parseRSP(_ name: String) throws -> [Vector] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Vectors/\(name)", withExtension: nil))
        let text = try String(contentsOf: url, encoding: .utf8)
        var vectors: [Vector] = []
        var section: [String: String] = [:]
        var current: Vector?
        func finish() {
            if let vector = current { vectors.append(vector) }
            current = nil
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") {
                finish()
            } else if line.hasPrefix("[") {
                finish()
                let parts = line.dropFirst().dropLast().components(separatedBy: " = ")
                section[parts[0]] = parts[1]
            } else if line == "FAIL" {
                current?.fails = true
            } else {
                let parts = line.components(separatedBy: " =")
                XCTAssertEqual(parts.count, 2, "unparsable line: \(line)")
                if parts[0] == "Count" { finish(); current = Vector(fields: section) }
                current?.fields[parts[0]] = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        finish()
        return vectors
    }

    func testEncryptVectors() throws {
        let vectors = try Self.parseRSP("gcmEncryptExtIV256.rsp")
        XCTAssertGreaterThanOrEqual(vectors.count, 128, "parser lost vectors")
        var checked = 0
        for vector in vectors {
            XCTAssertEqual(vector.fields["IVlen"], "96")
            XCTAssertEqual(vector.fields["Taglen"], "128")
            let key = try SymmetricKey(bytes: vector.bytes("Key"))
            let iv = try vector.bytes("IV"), pt = try vector.bytes("PT"), aad = try vector.bytes("AAD")
            let expectedCT = try vector.bytes("CT"), expectedTag = try vector.bytes("Tag")
            XCTAssertEqual(pt.count * 8, Int(vector.fields["PTlen"]!))
            XCTAssertEqual(aad.count * 8, Int(vector.fields["AADlen"]!))
            let context = try AESGCMContext(key: key)
            var ct = [UInt8](repeating: 0, count: pt.count)
            var tag = [UInt8](repeating: 0, count: 16)
            try iv.withUnsafeBytes { iv in
                try pt.withUnsafeBytes { pt in
                    try aad.withUnsafeBytes { aad in
                        try ct.withUnsafeMutableBytes { ctOut in
                            try tag.withUnsafeMutableBytes { tagOut in
                                try context.encrypt(nonce: iv, plaintext: pt, aad: aad, ciphertext: ctOut, tag: tagOut)
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(Hex.encode(ct), Hex.encode(expectedCT), "CT of vector \(vector.fields)")
            XCTAssertEqual(Hex.encode(tag), Hex.encode(expectedTag), "Tag of vector \(vector.fields)")

            // The same vector as an envelope must open through the public API.
            let envelope = [Envelope.version] + iv + expectedCT + expectedTag
            XCTAssertEqual(try context.open(envelope, aad: aad), pt)
            checked += 1
        }
        XCTAssertEqual(checked, vectors.count)
    }

    func testDecryptVectors() throws {
        let vectors = try Self.parseRSP("gcmDecrypt256.rsp")
        XCTAssertGreaterThanOrEqual(vectors.count, 128, "parser lost vectors")
        let failing = vectors.filter(\.fails).count
        XCTAssertGreaterThanOrEqual(failing, 32, "parser lost FAIL markers")
        XCTAssertGreaterThanOrEqual(vectors.count - failing, 32)
        var passed = 0, rejected = 0
        for vector in vectors {
            let key = try SymmetricKey(bytes: vector.bytes("Key"))
            let envelope = try [Envelope.version] + vector.bytes("IV") + vector.bytes("CT") + vector.bytes("Tag")
            let aad = try vector.bytes("AAD")
            let context = try AESGCMContext(key: key)
            if vector.fails {
                XCTAssertNil(vector.fields["PT"])
                XCTAssertThrowsError(try context.open(envelope, aad: aad)) { error in
                    XCTAssertEqual(error as? EnvelopeError, .authenticationFailed)
                }
                rejected += 1
            } else {
                XCTAssertEqual(try context.open(envelope, aad: aad), try vector.bytes("PT"))
                passed += 1
            }
        }
        XCTAssertEqual(passed + rejected, vectors.count)
    }
}
