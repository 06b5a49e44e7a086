import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP client that sends raw bytes, for hostile-input tests against `kek serve`.
/// Reads are bounded by SO_RCVTIMEO so a misbehaving server fails the test instead of hanging it.
/// `@unchecked Sendable`: it holds only a file descriptor, and each test uses a socket from one thread at a time.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(port: UInt16, receiveTimeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, rc == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Everything until the server closes or the timeout passes.
    func readAll() -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            data += chunk[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The status line of the first response, read until it is complete.
    func readStatusLine() -> String? {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while data.count < 200 {
            guard recv(fd, &byte, 1, 0) == 1 else { break }
            if byte == UInt8(ascii: "\n") { return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            data.append(byte)
        }
        return data.isEmpty ? nil : String(decoding: data, as: UTF8.self)
    }

    /// Milliseconds from connect to a complete `200` status line for `GET /healthz`, or nil.
    static func probeHealthz(port: UInt16) -> Double? {
        let started = Date()
        guard let client = try? RawSocket(port: port, receiveTimeout: 2),
              client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
              client.readStatusLine() == "HTTP/1.1 200 OK" else { return nil }
        return Date().timeIntervalSince(started) * 1000
    }
}
