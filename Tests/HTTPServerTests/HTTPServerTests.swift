import Glibc
import HTTPTestSupport
import XCTest
@testable import HTTPServer

/// Ordinary HTTP/1.1 behaviour over real loopback sockets.
final class HTTPServerTests: XCTestCase {
    func testGetReturnsBodyWithFramingHeaders() throws {
        let (_, port) = try startServer()
        let response = try XCTUnwrap(try exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"))
        XCTAssertEqual(response.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(response.text, "ok\n")
        XCTAssertEqual(response.header("Content-Length"), "3")
        XCTAssertEqual(response.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(response.header("Server"), "kek")
        XCTAssertNotNil(response.header("Date"))
        XCTAssertNil(response.header("Connection"))
    }

    func testHeadHasTheSameHeadersAsGetAndNoBody() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        client.send("HEAD /status HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try XCTUnwrap(client.readResponse(bodyExpected: false))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), String(#"{"state":"idle"}"#.utf8.count))
        XCTAssertEqual(head.header("Content-Type"), "application/json")
        // If the server had sent a body, it would now be parsed as the next status line.
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "ok\n")
    }

    func testKeepAliveServesTwoRequestsOnOneConnection() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "ok\n")
        client.send("GET /status HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, #"{"state":"idle"}"#)
    }

    /// Handlers see the connection's peer address (what the kernel says), on every request of
    /// a keep-alive connection.
    func testHandlersSeeThePeerAddressOfTheConnection() throws {
        let (_, port) = try startServer(handler: { request in .text(request.peer.map { "\($0)" } ?? "none") })
        let client = try RawClient(port: port)
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.fd, $0, &length) }
        }, 0)
        let expected = "127.0.0.1:\(UInt16(bigEndian: local.sin_port))"
        for _ in 0..<2 {
            client.send("GET /anything HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.text, expected)
        }
        XCTAssertEqual(PeerAddress(family: .ipv6, host: "::1", port: 80).description, "[::1]:80")
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /status HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "ok\n")
        XCTAssertEqual(client.readResponse()?.text, #"{"state":"idle"}"#)
    }

    func testConnectionCloseIsHonoured() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(client.waitForClose(timeout: 2))
    }

    func testHTTP10ClosesUnlessKeepAliveIsAsked() throws {
        let (_, port) = try startServer()
        let plain = try RawClient(port: port)
        plain.send("GET /healthz HTTP/1.0\r\n\r\n")
        XCTAssertEqual(plain.readResponse()?.header("Connection"), "close")
        XCTAssertTrue(plain.waitForClose(timeout: 2))

        let keepAlive = try RawClient(port: port)
        keepAlive.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(keepAlive.readResponse()?.header("Connection"), "keep-alive")
        keepAlive.send("GET /healthz HTTP/1.0\r\n\r\n")
        XCTAssertEqual(keepAlive.readResponse()?.text, "ok\n")
    }

    func testUnknownPathIs404() throws {
        let (_, port) = try startServer()
        let response = try XCTUnwrap(try exchange(port, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"))
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.text, "404 Not Found\n")
    }

    func testWrongMethodIs405WithAllow() throws {
        let (_, port) = try startServer()
        let response = try XCTUnwrap(try exchange(port, "DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n"))
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.header("Allow"), "GET, HEAD")
    }

    func testQueryIsSplitFromPath() throws {
        let (_, port) = try startServer()
        XCTAssertEqual(try exchange(port, "GET /query?x=1 HTTP/1.1\r\nHost: t\r\n\r\n")?.text, "some")
        XCTAssertEqual(try exchange(port, "GET /query HTTP/1.1\r\nHost: t\r\n\r\n")?.text, "none")
    }

    func testPostBodyWithinCapReachesHandler() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        client.send("POST /rotate HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n")
        client.send("hello world")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.text, #"{"received":11}"#)
    }

    func testExpectContinueGets100BeforeTheBody() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        client.send("POST /rotate HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(client.readResponse(bodyExpected: false)?.status, 100)
        client.send("abcd")
        XCTAssertEqual(client.readResponse()?.text, #"{"received":4}"#)
    }

    func testBodyOverCapIs413AndClose() throws {
        let (_, port) = try startServer(HTTPServer.Configuration(maxBodyBytes: 1024))
        let client = try RawClient(port: port)
        client.send("POST /rotate HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(client.waitForClose(timeout: 3))
    }

    func testHandlerConnectionCloseEndsConnection() throws {
        let (_, port) = try startServer(handler: { _ in
            HTTPResponse(status: .ok, headers: ["Connection": "close"], body: Array("bye".utf8))
        })
        let client = try RawClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.header("Connection"), "close")
        XCTAssertTrue(client.waitForClose(timeout: 3))
    }

    func testStopReturnsPromptlyAndReleasesThePort() throws {
        let server = HTTPServer(handler: makeTestRouter().handler)
        let port = try server.start()
        let idle = try RawClient(port: port)
        _ = idle
        XCTAssertEqual(try exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")?.status, 200)
        let start = MonotonicClock.now()
        XCTAssertTrue(server.stop())
        XCTAssertLessThan(elapsed(since: start), 0.5)
        XCTAssertNil(server.port)
        XCTAssertThrowsError(try RawClient(port: port))
        XCTAssertTrue(server.stop(), "second stop is a no-op")
    }
}
