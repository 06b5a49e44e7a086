import Foundation
import KeyManagement
import XCTest

/// kek's dotenv reading against python-dotenv itself, case by case: every case is either read
/// exactly as python-dotenv reads it, or refused (with a message, never the line). Each case
/// also says which of the two kek does, so a change of behaviour shows up here.
///
/// python-dotenv is called on real files with `encoding="utf-8-sig"` (how Python reads a file
/// that may start with a BOM); `.ci/setup` installs it when missing.
final class DotEnvPythonComparisonTests: XCTestCase {
    enum Expected { case same, refused }

    static let cases: [(String, String, Expected)] = [
        ("plain", "A=1\nB=two words\n", .same),
        ("CRLF line ends", "A=1\r\nB=2\r\n", .same),
        ("lone CR line ends", "A=1\rB=2\r", .same),
        ("CRLF inside double quotes", "A=\"x\r\ny\"\r\nB=2", .same),
        ("BOM at the start", "\u{FEFF}A=1\n", .same),
        ("empty value", "A=\nB=\"\"\nC=''\n", .same),
        ("value starting with # after a space", "A= #x\n", .refused),
        ("value starting with # right after =", "A=#x\n", .same),
        ("hash inside a word", "A=a#b\n", .same),
        ("comment after a space", "A=a #b\nB=x\t#tab comment\n", .same),
        ("name without =", "A\n", .refused),
        ("export prefix", "export A=1\nexport  B=2\n", .same),
        ("exportA is a name", "exportA=1\n", .same),
        ("single quotes span lines", "A='x\ny'\n", .refused),
        ("double quote escapes", "A=\"a\\nb\\tc\\\"d\\\\e\\'f\"\n", .same),
        ("rarer double quote escapes", "A=\"\\a\\b\\f\\r\\v\"\n", .same),
        ("unknown escape kept", "A=\"C:\\dir\\q\"\n", .same),
        ("single quotes are literal", "A='a\\nb $HOME \"q\" # kept'\n", .same),
        ("single quote escapes", "A='a\\\\b'\nB='it\\'s'\n", .same),
        ("interpolation", "A=${B}\n", .refused),
        ("interpolation in double quotes", "A=\"x${B}\"\n", .refused),
        ("interpolation in single quotes", "A='${B}'\n", .refused),
        ("plain dollar", "A=$B\nC=cost$5\n", .same),
        ("defined twice", "A=1\nA=2\n", .refused),
        ("spaces around", "  A = 1 \n", .same),
        ("text after closing quote", "A=\"x\" y\n", .refused),
        ("comment after closing quote", "A='x' #c\nB=\"y\" #c\nC=\"z\"#c\n", .same),
        ("name starting with a digit", "1A=x\n", .refused),
        ("name with a dash", "A-B=x\n", .refused),
        ("name with a dot", "A.B=x\n", .refused),
        ("quoted name", "'A'=1\n", .refused),
        ("space in name", "A B=x\n", .refused),
        ("unterminated double quote", "A=\"unterminated\nB=2\n", .refused),
        ("unterminated single quote", "A='x\n", .refused),
        ("comments and blank lines", "#c\n\n   # indented\nA=1 # c\n", .same),
        ("tabs around value", "A=\t1\t\n", .same),
        ("colon instead of =", "DATABASE_URL: postgres://app:S3cretPw@db/prod\n", .refused),
        ("backslash at line end", "A=a\\\nb\n", .refused),
        ("equals in value", "A==x\nB=a=b=c\n", .same),
        ("multi-line double quoted", "A=\"-----BEGIN-----\nline\n-----END-----\"\n", .same),
        ("backslash-newline in double quotes", "A=\"a\\\nb\"\n", .same),
        ("two quoted strings", "A=\"x\"\"y\"\n", .refused),
        ("unquoted backslash", "A=\\x\nB=x\\ty\n", .same),
        ("non-ASCII value", "A=\u{e9}t\u{e9}\n", .same),
        ("keyring line read as dotenv", "root-a:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=\n", .refused),
        ("empty name", "=x\n", .refused),
    ]

    /// What kek makes of `text`: the values, or nil when the import would be refused.
    static func kekReading(_ text: String) -> [String: String]? {
        let parsed = DotEnv.parse(Array(text.utf8))
        guard parsed.problems.isEmpty else { return nil }
        var values: [String: String] = [:]
        for entry in parsed.entries {
            guard SecretName.problem(entry.name) == nil, values[entry.name] == nil,
                  let value = String(validating: entry.value.testCopy, as: UTF8.self) else { return nil }
            values[entry.name] = value
        }
        return values
    }

    func testEveryCaseMatchesPythonDotenvOrIsRefused() throws {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 30)
        let python = try Self.pythonReadings(Self.cases.map(\.1))
        var same = 0, refused = 0
        for ((label, text, expected), theirs) in zip(Self.cases, python) {
            let ours = Self.kekReading(text)
            switch expected {
            case .same:
                XCTAssertNotNil(ours, "\(label): kek refused it")
                XCTAssertEqual(ours, theirs, "\(label): kek and python-dotenv disagree")
                same += 1
            case .refused:
                XCTAssertNil(ours, "\(label): kek should refuse it (python-dotenv reads \(String(describing: theirs)))")
                refused += 1
            }
        }
        print("dotenv cases vs python-dotenv: \(same) read the same, \(refused) refused by kek")
    }

    func testRefusalsNameNoByteOfTheLine() {
        for (label, text, expected) in Self.cases where expected == .refused {
            let parsed = DotEnv.parse(Array(text.utf8))
            let messages = parsed.problems.map(\.reason) + parsed.entries.compactMap { SecretName.problem($0.name) }
            for message in messages {
                for word in ["S3cretPw", "c2VjcmV0", "unterminated", "postgres", "root-a"] where text.contains(word) {
                    XCTAssertFalse(message.contains(word), "\(label): \(message)")
                }
            }
        }
    }

    /// python-dotenv's reading of each text (nil values, for a name without `=`, dropped
    /// into a refusal: kek refuses those), one interpreter run for all cases.
    static func pythonReadings(_ texts: [String]) throws -> [[String: String]?] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dotenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, text) in texts.enumerated() {
            try Data(text.utf8).write(to: folder.appendingPathComponent("\(index).env"))
        }
        let script = """
            import json, sys
            from dotenv import dotenv_values
            out = []
            for i in range(int(sys.argv[2])):
                values = dotenv_values(f"{sys.argv[1]}/{i}.env", encoding="utf-8-sig")
                out.append(None if any(v is None for v in values.values()) else values)
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder.path, String(texts.count)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonDotenvMissing("python3 with python-dotenv is needed (.ci/setup installs it): exit \(process.terminationStatus)")
        }
        return try JSONDecoder().decode([[String: String]?].self, from: data)
    }
}

/// Not a skip: a missing python-dotenv fails the test.
struct PythonDotenvMissing: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
