import Foundation
import XCTest
import HTTPServer

/// A real third-party client against the server. CI installs curl; a missing curl is a failure, not a skip.
final class CurlTests: XCTestCase {
    private func curlPath() -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/curl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func curl(_ arguments: [String]) throws -> String {
        guard let path = curlPath() else {
            XCTFail("curl is not installed (apt-get install curl); CurlTests need it")
            return ""
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--max-time", "5"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "curl exited with \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }

    func testCurlGet() throws {
        let (_, port) = try startServer()
        let output = try curl(["-s", "-i", "http://127.0.0.1:\(port)/healthz"])
        let lines = output.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "HTTP/1.1 200 OK")
        XCTAssertTrue(lines.contains("Content-Type: text/plain; charset=utf-8"), output)
        XCTAssertTrue(output.hasSuffix("\r\n\r\nok\n"), output)
    }

    func testCurlPostAndHead() throws {
        let (_, port) = try startServer()
        let post = try curl(["-s", "-i", "--data-binary", "0123456789", "http://127.0.0.1:\(port)/rotate"])
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 202 Accepted\r\n"), post)
        XCTAssertTrue(post.hasSuffix(#"{"received":10}"#), post)
        let head = try curl(["-s", "-I", "http://127.0.0.1:\(port)/status"])
        XCTAssertTrue(head.contains("Content-Length: 16\r\n"), head)
    }
}
