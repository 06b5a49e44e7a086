import XCTest
@testable import HTTPServer

/// The head scanner and parser without sockets.
final class RequestHeadParserTests: XCTestCase {
    private let limits = HeadLimits(maxHeadBytes: 256, maxHeaderCount: 4, maxBodyBytes: 100)

    private func scan(_ text: String) -> HeadScanner.Outcome {
        var scanner = HeadScanner()
        return scanner.scan(Array(text.utf8), limits: limits)
    }

    private func parse(_ text: String) -> Parsed<RequestHead> {
        let bytes = Array(text.utf8)
        var scanner = HeadScanner()
        guard case .complete(let length) = scanner.scan(bytes, limits: limits) else {
            XCTFail("incomplete head: \(text.debugDescription)")
            return .failure(.badRequest)
        }
        return RequestHeadParser.parse(bytes[0..<length], limits: limits)
    }

    func testScannerIsIncrementalAndFindsTheEnd() {
        var scanner = HeadScanner()
        var buffer: [UInt8] = []
        let text = Array("GET / HTTP/1.1\r\nHost: t\r\n\r\nrest".utf8)
        var outcome = HeadScanner.Outcome.needMore
        for byte in text {
            buffer.append(byte)
            outcome = scanner.scan(buffer, limits: limits)
            if outcome != .needMore { break }
        }
        XCTAssertEqual(outcome, .complete(headLength: text.count - 4))
    }

    func testScannerRejectsEarly() {
        XCTAssertEqual(scan("GET / HTTP/1.1\n"), .reject(.badRequest))
        XCTAssertEqual(scan("GET / HTTP/1.1\rX"), .reject(.badRequest))
        XCTAssertEqual(scan("GET /\r\n"), .reject(.badRequest))
        XCTAssertEqual(scan("GET / HTTP/3.0\r\n"), .reject(.httpVersionNotSupported))
        XCTAssertEqual(scan("GET / HTTP/1.1\r\n folded"), .needMore)
        XCTAssertEqual(scan("GET / HTTP/1.1\r\n folded\r\n"), .reject(.badRequest))
        XCTAssertEqual(scan("\u{80}"), .reject(.badRequest))
        XCTAssertEqual(scan("GET / HTTP/1.1\r\n" + String(repeating: "A", count: 300)), .reject(.requestHeaderFieldsTooLarge))
        XCTAssertEqual(scan("GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 5)), .reject(.requestHeaderFieldsTooLarge))
        XCTAssertEqual(scan("GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 4)), .needMore)
    }

    func testLeadingEmptyLinesAreSkipped() {
        guard case .success(let head) = parse("\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n") else { return XCTFail() }
        XCTAssertEqual(head.path, "/x")
    }

    func testParsesMethodPathQueryHeadersAndKeepAlive() {
        guard case .success(let head) = parse("POST /a/b?c=d&e HTTP/1.1\r\nhost:  t \r\nContent-Length: 5\r\n\r\n") else {
            return XCTFail()
        }
        XCTAssertEqual(head.method, "POST")
        XCTAssertEqual(head.path, "/a/b")
        XCTAssertEqual(head.query, "c=d&e")
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.headers["HOST"], "t")
        XCTAssertEqual(head.contentLength, 5)
        XCTAssertTrue(head.keepAlive)
    }

    func testConnectionSemantics() {
        guard case .success(let a) = parse("GET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Close\r\n\r\n"),
              case .success(let b) = parse("GET / HTTP/1.0\r\n\r\n"),
              case .success(let c) = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        else { return XCTFail() }
        XCTAssertFalse(a.keepAlive)
        XCTAssertFalse(b.keepAlive)
        XCTAssertTrue(c.keepAlive)
    }

    func testFramingRules() {
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n"), .failure(.contentTooLarge))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\n"), .failure(.badRequest))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n"), .failure(.badRequest))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: t\r\ncontent-length: 1\r\nContent-Length: 1\r\n\r\n"), .failure(.badRequest))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"), .failure(.notImplemented))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\n\r\n"), .failure(.badRequest))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: t\r\n: empty-name\r\n\r\n"), .failure(.badRequest))
    }
}

/// Response framing and sanitising without sockets.
final class ResponseSerializerTests: XCTestCase {
    private func text(_ response: HTTPResponse, head: Bool = false, keepAlive: Bool = true) -> String {
        String(decoding: ResponseSerializer.serialize(response, omitBody: head, keepAlive: keepAlive, requestVersion: .http1_1, date: nil), as: UTF8.self)
    }

    func testFramingIsOwnedByTheServer() {
        var response = HTTPResponse.text("hi")
        response.headers.add(name: "Content-Length", value: "999")
        response.headers.add(name: "Transfer-Encoding", value: "chunked")
        XCTAssertEqual(text(response), "HTTP/1.1 200 OK\r\nServer: kek\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi")
        XCTAssertEqual(text(response, head: true), "HTTP/1.1 200 OK\r\nServer: kek\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
    }

    func testInjectedHeadersAreDropped() {
        let response = HTTPResponse(headers: ["X-Evil": "a\r\nSet-Cookie: x", "Bad Name": "v", "X-Ok": "fine"])
        XCTAssertEqual(text(response, keepAlive: false), "HTTP/1.1 200 OK\r\nServer: kek\r\nContent-Length: 0\r\nConnection: close\r\nX-Ok: fine\r\n\r\n")
    }

    func testNoContentHasNoLengthOrBody() {
        XCTAssertEqual(text(HTTPResponse(status: .noContent, body: [1, 2])), "HTTP/1.1 204 No Content\r\nServer: kek\r\n\r\n")
    }

    func testDateIsIMFFixdate() {
        XCTAssertEqual(ResponseSerializer.httpDate(epochSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}

final class HTTPRouterTests: XCTestCase {
    func testRouting() {
        let router = makeTestRouter()
        XCTAssertEqual(router.handle(HTTPRequest(method: "GET", path: "/healthz")).body, Array("ok\n".utf8))
        XCTAssertEqual(router.handle(HTTPRequest(method: "HEAD", path: "/healthz")).status, .ok)
        XCTAssertEqual(router.handle(HTTPRequest(method: "GET", path: "/missing")).status, .notFound)
        let refused = router.handle(HTTPRequest(method: "GET", path: "/rotate"))
        XCTAssertEqual(refused.status, .methodNotAllowed)
        XCTAssertEqual(refused.headers["allow"], "POST")
    }
}
