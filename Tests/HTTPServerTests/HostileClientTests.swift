import Glibc
import HTTPTestSupport
import XCTest
@testable import HTTPServer

/// Hostile and malformed input over real sockets. After each, the server must still answer.
final class HostileClientTests: XCTestCase {
    private func assertStillServes(_ port: UInt16, file: StaticString = #filePath, line: UInt = #line) throws {
        let response = try exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(response?.status, 200, "server no longer serves", file: file, line: line)
    }

    /// Sends `request`, expects `status` with `Connection: close`, then the close itself.
    private func assertRejected(_ port: UInt16, _ request: String, _ status: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let client = try RawClient(port: port)
        client.send(request)
        let response = client.readResponse()
        XCTAssertEqual(response?.status, status, "for \(request.debugDescription)", file: file, line: line)
        XCTAssertEqual(response?.header("Connection"), "close", file: file, line: line)
        XCTAssertTrue(client.waitForClose(timeout: 3), "not closed", file: file, line: line)
    }

    func testHundredKilobyteHeaderIs431() throws {
        let (_, port) = try startServer()
        let client = try RawClient(port: port)
        let big = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "a", count: 100_000) + "\r\n\r\n"
        client.send(big)
        XCTAssertEqual(client.readResponse()?.status, 431)
        XCTAssertTrue(client.waitForClose(timeout: 3))
        try assertStillServes(port)
    }

    func testTooManyHeaderLinesIs431() throws {
        let (_, port) = try startServer()
        let headers = (0..<65).map { "X-\($0): v\r\n" }.joined()
        try assertRejected(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\(headers)\r\n", 431)
    }

    func testRequestLineWithoutVersionIs400AtOnce() throws {
        let (_, port) = try startServer()
        let start = MonotonicClock.now()
        // HTTP/0.9 style: no version and no empty line. Must not wait for the head deadline.
        try assertRejected(port, "GET /healthz\r\n", 400)
        XCTAssertLessThan(elapsed(since: start), 1.0)
        try assertRejected(port, "GET /healthz\r\n\r\n", 400)
        try assertStillServes(port)
    }

    func testMalformedHeadsAreRefused() throws {
        let (_, port) = try startServer()
        let cases: [(String, Int)] = [
            ("GET /healthz HTTP/1.1\nHost: t\n\n", 400),                                       // bare LF
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400),                      // bare CR
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n", 400),           // obs-fold
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nX-A : 1\r\n\r\n", 400),                      // space before colon
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400),
            ("GET /healthz HTTP/1.1\r\n\r\n", 400),                                            // no Host in 1.1
            ("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\n", 400),
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
            ("POST /rotate HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
            ("POST /rotate HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST /rotate HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx", 417),
            ("GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", 505),
            ("GET /healthz HTTP/1.1 \r\nHost: t\r\n\r\n", 400),                                // trailing space
            ("GET  /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400),                                // double space
            ("GET http://x/healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400),                         // absolute-form
            ("GET /h\u{e9}althz HTTP/1.1\r\nHost: t\r\n\r\n", 400),                            // non-ASCII
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nX: \u{1}\r\n\r\n", 400),                     // control byte
        ]
        for (request, status) in cases {
            try assertRejected(port, request, status)
        }
        try assertStillServes(port)
    }

    func testRandomBytesGet400OrClose() throws {
        let (_, port) = try startServer()
        var generator = SeededGenerator(seed: 0x6b656b)
        for round in 0..<30 {
            let client = try RawClient(port: port)
            let length = 1 + Int(generator.next() % 2_000)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            client.send(bytes)
            if let response = client.readResponse() {
                XCTAssertTrue([400, 431, 505].contains(response.status), "round \(round): \(response.statusLine)")
            }
            XCTAssertTrue(client.waitForClose(timeout: 3), "round \(round) not closed")
        }
        try assertStillServes(port)
    }

    func testSlowClientIsCutOffAtTheHeadDeadline() throws {
        let (_, port) = try startServer(HTTPServer.Configuration(headReadDeadline: .seconds(1)))
        let client = try RawClient(port: port)
        let trickle = Array("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ".utf8) + [UInt8](repeating: 97, count: 100)
        let start = MonotonicClock.now()
        var response = ""
        var closedAfter: Double?
        for byte in trickle {
            guard client.send([byte]) else {
                closedAfter = elapsed(since: start)
                break
            }
            var pfd = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 200)
            if pfd.revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { response += String(decoding: chunk[0..<n], as: UTF8.self) }
                if n <= 0 {
                    closedAfter = elapsed(since: start)
                    break
                }
            }
        }
        let cutOff = try XCTUnwrap(closedAfter, "a 1-byte-per-200-ms client was never cut off")
        print("slow client (1 byte / 200 ms, 1 s head deadline): closed after \(String(format: "%.2f", cutOff)) s")
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), response)
        XCTAssertGreaterThan(cutOff, 0.9)
        XCTAssertLessThan(cutOff, 3.0)  // 1 s deadline + 1 s linger + slack
        try assertStillServes(port)
    }

    func testIncompleteBodyIs408AtTheBodyDeadline() throws {
        let (_, port) = try startServer(HTTPServer.Configuration(bodyReadDeadline: .milliseconds(500)))
        let client = try RawClient(port: port)
        let start = MonotonicClock.now()
        client.send("POST /rotate HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertEqual(client.readResponse()?.status, 408)
        XCTAssertGreaterThan(elapsed(since: start), 0.4)
        XCTAssertTrue(client.waitForClose(timeout: 3))
        try assertStillServes(port)
    }

    func testIdleKeepAliveConnectionIsClosedSilently() throws {
        let (_, port) = try startServer(HTTPServer.Configuration(idleTimeout: .milliseconds(300)))
        let client = try RawClient(port: port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        let start = MonotonicClock.now()
        XCTAssertNil(client.readResponse(), "an idle close sends nothing")
        XCTAssertGreaterThan(elapsed(since: start), 0.25)
        XCTAssertLessThan(elapsed(since: start), 2.0)
    }

    func testSilentNewConnectionIsClosedAtTheHeadDeadline() throws {
        let (_, port) = try startServer(HTTPServer.Configuration(headReadDeadline: .milliseconds(300)))
        let client = try RawClient(port: port)
        let start = MonotonicClock.now()
        XCTAssertNil(client.readResponse(), "no bytes sent, so no 408 either")
        XCTAssertLessThan(elapsed(since: start), 2.0)
    }

    func testFiveHundredIdleConnectionsDoNotDelayOthers() throws {
        var configuration = HTTPServer.Configuration(headReadDeadline: .seconds(60), maxConnections: 1_024)
        configuration.listenBacklog = 1_024
        let (_, port) = try startServer(configuration)
        var idle: [RawClient] = []
        for index in 0..<500 {
            let client = try RawClient(port: port)
            if index % 2 == 0 { client.send("GET /healthz HT") }  // half of them mid-request-line
            idle.append(client)
        }
        var worst = 0.0
        var latencies: [Double] = []
        for _ in 0..<20 {
            let start = MonotonicClock.now()
            let response = try exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            let latency = elapsed(since: start)
            XCTAssertEqual(response?.status, 200)
            latencies.append(latency)
            worst = max(worst, latency)
        }
        print("500 idle connections: probe latency max \(String(format: "%.2f", worst * 1000)) ms, "
              + "median \(String(format: "%.2f", latencies.sorted()[10] * 1000)) ms over 20 probes (connect + request + response)")
        XCTAssertLessThan(worst, 0.100)
        XCTAssertEqual(idle.count, 500)
    }

    func testConnectionsOverTheLimitAreTurnedAway() throws {
        let (_, port) = try startServer(HTTPServer.Configuration(maxConnections: 4))
        var idle = try (0..<4).map { _ in try RawClient(port: port) }
        let extra = try RawClient(port: port)
        extra.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = extra.readResponse()
        XCTAssertTrue(response == nil || response?.status == 503, "got \(response?.statusLine ?? "nil")")
        XCTAssertTrue(extra.waitForClose(timeout: 2))
        idle.removeAll()
        // The server notices the closes on its next poll; allow it a moment.
        var served = false
        for _ in 0..<50 where !served {
            served = (try? exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"))??.status == 200
            if !served { usleep(20_000) }
        }
        XCTAssertTrue(served)
    }

    func testClientThatNeverReadsDoesNotPinTheWorker() throws {
        let huge = [UInt8](repeating: 120, count: 16 * 1024 * 1024)
        let configuration = HTTPServer.Configuration(sendTimeout: .seconds(1), workerThreadCount: 1)
        let (_, port) = try startServer(configuration, handler: { request in
            request.path == "/huge" ? HTTPResponse(body: huge) : .text("ok\n")
        })
        let stuck = try RawClient(port: port)
        stuck.send("GET /huge HTTP/1.1\r\nHost: t\r\n\r\n")  // and never read
        usleep(100_000)
        let start = MonotonicClock.now()
        let response = try exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(response?.status, 200)
        XCTAssertLessThan(elapsed(since: start), 3.0, "the only worker stayed pinned by a non-reading client")
        _ = stuck
    }

    func testServerSurvivesABarrageAndStopsPromptly() throws {
        let server = HTTPServer(configuration: HTTPServer.Configuration(headReadDeadline: .seconds(1)), handler: makeTestRouter().handler)
        let port = try server.start()
        var clients: [RawClient] = []
        for index in 0..<50 {
            let client = try RawClient(port: port)
            switch index % 5 {
            case 0: client.send(String(repeating: "A", count: 20_000))
            case 1: client.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")  // body never finished
            case 2: client.send([0, 255, 13, 10, 13, 10])
            case 3: client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")  // served, never read
            default: break  // silent
            }
            clients.append(client)
        }
        XCTAssertEqual(try exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")?.status, 200)
        let start = MonotonicClock.now()
        XCTAssertTrue(server.stop())
        let stopTime = elapsed(since: start)
        print("stop() with 50 hostile connections open: \(String(format: "%.1f", stopTime * 1000)) ms")
        XCTAssertLessThan(stopTime, 1.0)
        for client in clients { XCTAssertTrue(client.waitForClose(timeout: 2)) }
    }
}
