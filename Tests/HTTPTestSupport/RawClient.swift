import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback TCP client that speaks raw bytes, so tests can send what no HTTP library
/// would: the in-process server's tests and the hostile-client tests against `kek serve` alike.
/// Every read is bounded by SO_RCVTIMEO, so a misbehaving server fails the test instead of hanging it.
/// `@unchecked Sendable`: it holds a file descriptor and a read buffer, and each test uses a client
/// from one thread at a time (a slow client may trickle bytes from a thread of its own).
public final class RawClient: @unchecked Sendable {
    public let fd: Int32
    private var buffer: [UInt8] = []

    public struct Response {
        public var statusLine: String
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public init(port: UInt16, receiveTimeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        setReceiveTimeout(receiveTimeout)
    }

    deinit { Glibc.close(fd) }

    public func setReceiveTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends everything; false if the server has gone away (EPIPE / ECONNRESET).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
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
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

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
    public func readResponse(bodyExpected: Bool = true) -> Response? {
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

    /// Everything until the server closes or the timeout passes.
    public func readAll() -> String {
        while fill() > 0 {}
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The status line of the first response (up to 200 bytes), read until it is complete;
    /// nil when the server sent nothing.
    public func readStatusLine() -> String? {
        while true {
            if let newline = buffer.prefix(200).firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                buffer.removeFirst(newline + 1)
                return line
            }
            guard buffer.count < 200, fill() > 0 else { break }
        }
        return buffer.isEmpty ? nil : String(decoding: buffer.prefix(200), as: UTF8.self)
    }

    /// True if the server closes (EOF or reset) within `timeout` seconds, discarding any data.
    public func waitForClose(timeout: Double) -> Bool {
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

    /// Milliseconds from connect to a complete `200` status line for `GET /healthz`, or nil.
    public static func probeHealthz(port: UInt16) -> Double? {
        let started = Date()
        guard let client = try? RawClient(port: port, receiveTimeout: 2),
              client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
              client.readStatusLine() == "HTTP/1.1 200 OK" else { return nil }
        return Date().timeIntervalSince(started) * 1000
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}
