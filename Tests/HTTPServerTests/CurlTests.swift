import Foundation
import HTTPServer
import HTTPTestSupport
import XCTest

/// A real third-party client against the server. CI installs curl; a missing curl is a failure, not a skip.
final class CurlTests: XCTestCase {
    func testCurlGet() throws {
        let (_, port) = try startServer()
        let output = try Curl.request("http://127.0.0.1:\(port)/healthz").transcript
        let lines = output.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "HTTP/1.1 200 OK")
        XCTAssertTrue(lines.contains("Content-Type: text/plain; charset=utf-8"), output)
        XCTAssertTrue(output.hasSuffix("\r\n\r\nok\n"), output)
    }

    func testCurlPostAndHead() throws {
        let (_, port) = try startServer()
        let post = try Curl.request("http://127.0.0.1:\(port)/rotate", method: "POST", body: "0123456789").transcript
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 202 Accepted\r\n"), post)
        XCTAssertTrue(post.hasSuffix(#"{"received":10}"#), post)
        let head = try Curl.request("http://127.0.0.1:\(port)/status", method: "HEAD").transcript
        XCTAssertTrue(head.contains("Content-Length: 16\r\n"), head)
    }
}
