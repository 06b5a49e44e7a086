import Glibc
import XCTest
@testable import HTTPServer

/// A blocking loopback client that speaks raw bytes, so tests can send what no HTTP library would.
/// Every read is bounded by SO_RCVTIMEO, so a misbehaving server fails the test instead of hanging it.
final class RawClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    struct Response {
        var statusLine: String
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    init(port: UInt16, receiveTimeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError.last("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let error = SocketError.last("connect")
            Glibc.close(fd)
            throw error
        }
        setReceiveTimeout(receiveTimeout)
    }

    deinit { Glibc.close(fd) }

    func setReceiveTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends everything; false if the server has gone away (EPIPE / ECONNRESET).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// One recv into the buffer: > 0 bytes, 0 on EOF, -1 on error or timeout.
    private func fill() -> Int {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]) }
            return n
        }
    }

    /// Reads one response; `bodyExpected: false` for HEAD. Nil on EOF / reset / timeout before a full response.
    func readResponse(bodyExpected: Bool = true) -> Response? {
        var headEnd: Int?
        while headEnd == nil {
            if let range = findCRLFCRLF() { headEnd = range; break }
            guard fill() > 0 else { return nil }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = Response(statusLine: statusLine, status: status, headers: headers, body: [])
        let length = bodyExpected ? Int(response.header("Content-Length") ?? "0") ?? 0 : 0
        let total = headEnd! + 4 + length
        while buffer.count < total {
            guard fill() > 0 else { return nil }
        }
        response.body = Array(buffer[(headEnd! + 4)..<total])
        buffer.removeFirst(total)
        return response
    }

    /// True if the server closes (EOF or reset) within `timeout` seconds, discarding any data.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) >= 0 else { return false }
            if pfd.revents != 0 {
                buffer.removeAll()
                if fill() <= 0 { return true }
            }
        }
        return false
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// The routes every server test uses; domain-free stand-ins for status, metrics and one POST.
func makeTestRouter() -> HTTPRouter {
    var router = HTTPRouter()
    router.add("GET", "/healthz") { _ in .text("ok\n") }
    router.add("GET", "/status") { _ in .json(#"{"state":"idle"}"#) }
    router.add("POST", "/rotate") { request in .json("{\"received\":\(request.body.count)}", status: .accepted) }
    router.add("GET", "/query") { request in .text(request.query == nil ? "none" : "some") }
    return router
}

extension XCTestCase {
    /// Starts a server on an ephemeral loopback port and stops it when the test ends.
    func startServer(
        _ configuration: HTTPServer.Configuration = HTTPServer.Configuration(),
        handler: HTTPHandler? = nil
    ) throws -> (HTTPServer, UInt16) {
        let server = HTTPServer(configuration: configuration, handler: handler ?? makeTestRouter().handler)
        let port = try server.start()
        addTeardownBlock { XCTAssertTrue(server.stop(timeout: .seconds(5))) }
        return (server, port)
    }

    /// Sends `request` on a fresh connection and returns the first response (nil if the server just closed).
    func exchange(_ port: UInt16, _ request: String, bodyExpected: Bool = true) throws -> RawClient.Response? {
        let client = try RawClient(port: port)
        client.send(request)
        return client.readResponse(bodyExpected: bodyExpected)
    }
}

func elapsed(since start: UInt64) -> Double {
    Double(MonotonicClock.now() - start) / 1e9
}
