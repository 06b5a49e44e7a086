#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with the errno it left behind.
///
/// Thrown by `HTTPServer.start()` so callers can tell "port in use" (`EADDRINUSE`) from
/// "bad address" (`EINVAL`) without parsing strings.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    /// The call that failed, e.g. `"bind"`.
    public let operation: String
    /// The errno value at the time of the failure.
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    static func last(_ operation: String) -> SocketError {
        SocketError(operation: operation, code: errno)
    }

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Monotonic nanoseconds; deadlines in the server are absolute values of this clock.
enum MonotonicClock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// Non-negative whole nanoseconds, saturating at zero for negative durations.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

/// Thin wrappers over the socket calls the server needs. Every descriptor is created with
/// `SOCK_CLOEXEC` and `SOCK_NONBLOCK`; every send passes `MSG_NOSIGNAL` so a vanished peer
/// yields `EPIPE` instead of killing the process; `EINTR` is retried everywhere.
enum Socket {
    enum ReceiveResult {
        case received(Int)
        case wouldBlock
        case closed
    }

    /// Creates a non-blocking listening socket bound to a numeric IPv4 or IPv6 address.
    /// Host names are deliberately not resolved: a status endpoint binds a literal address.
    static func makeListener(host: String, port: UInt16, backlog: Int32) throws -> (fd: Int32, port: UInt16) {
        var v4 = in_addr()
        var v6 = in6_addr()
        let family: Int32
        if inet_pton(AF_INET, host, &v4) == 1 {
            family = AF_INET
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            family = AF_INET6
        } else {
            throw SocketError(operation: "inet_pton (host must be a numeric address)", code: EINVAL)
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketError.last("socket") }
        do {
            var one: Int32 = 1
            guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw SocketError.last("setsockopt(SO_REUSEADDR)")
            }
            let rc: Int32
            if family == AF_INET {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                address.sin_addr = v4
                rc = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            } else {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = port.bigEndian
                address.sin6_addr = v6
                rc = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
            guard rc == 0 else { throw SocketError.last("bind") }
            guard listen(fd, backlog) == 0 else { throw SocketError.last("listen") }
            return (fd, try boundPort(fd))
        } catch {
            close(fd)
            throw error
        }
    }

    private static func boundPort(_ fd: Int32) throws -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw SocketError.last("getsockname") }
        if Int32(storage.ss_family) == AF_INET {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
        }
    }

    private typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    /// glibc's `accept4`, looked up at run time because the Glibc module does not export it
    /// (it is behind `_GNU_SOURCE`). It sets close-on-exec atomically, so a concurrent
    /// `fork`/`exec` elsewhere in the process cannot inherit a client socket.
    private static let accept4: Accept4? = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4.self) }

    enum AcceptResult {
        case accepted(Int32)
        /// Nothing pending, or a per-connection error such as `ECONNABORTED`.
        case empty
        /// Out of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`). The pending
        /// connection stays queued, so the listener stays readable: the caller must back off.
        case exhausted
    }

    /// Accepts one pending connection, non-blocking and close-on-exec.
    static func accept(_ listener: Int32) -> AcceptResult {
        while true {
            let fd: Int32
            if let accept4 {
                fd = accept4(listener, nil, nil, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
            } else {
                fd = Glibc.accept(listener, nil, nil)
                if fd >= 0 {
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                }
            }
            if fd >= 0 { return .accepted(fd) }
            switch errno {
            case EINTR: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .exhausted
            default: return .empty
            }
        }
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private static let pipe2: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// A non-blocking, close-on-exec pipe used to wake the event loop out of `poll`.
    static func makeWakePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 {
            guard pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else { throw SocketError.last("pipe2") }
        } else {
            guard pipe(&fds) == 0 else { throw SocketError.last("pipe") }
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        }
        return (fds[0], fds[1])
    }

    /// Sets `TCP_NODELAY` (responses are written in one piece) and `SO_SNDTIMEO` (belt and braces:
    /// the real write deadline is enforced by `sendAll(_:_:deadline:)` with `poll`).
    static func configureAccepted(_ fd: Int32, sendTimeout: Duration) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let nanos = sendTimeout.clampedNanoseconds
        var tv = timeval(tv_sec: Int(nanos / 1_000_000_000), tv_usec: Int((nanos % 1_000_000_000) / 1_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads at most `maxBytes` into `scratch` and appends them to `buffer`.
    static func receive(_ fd: Int32, into buffer: inout [UInt8], maxBytes: Int, scratch: inout [UInt8]) -> ReceiveResult {
        let limit = min(maxBytes, scratch.count)
        guard limit > 0 else { return .wouldBlock }
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, limit, 0) }
            if n > 0 {
                buffer.append(contentsOf: scratch[0..<n])
                return .received(n)
            }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .closed
        }
    }

    /// One non-blocking send attempt; used by the event loop for small canned error replies,
    /// which must never make the loop wait on a client.
    static func sendOnce(_ fd: Int32, _ bytes: [UInt8]) {
        while true {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            return
        }
    }

    /// Writes all of `bytes` before the absolute monotonic `deadline`, waiting in `poll` for
    /// writability. A client that stops reading therefore pins a worker for at most the send timeout.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK else { return false }
            let now = MonotonicClock.now()
            guard now < deadline else { return false }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let waitMs = Int32(min((deadline - now + 999_999) / 1_000_000, 1_000))
            if poll(&pfd, 1, waitMs) < 0 && errno != EINTR { return false }
        }
        return true
    }

    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    static func shutdownBoth(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Closes a descriptor. `EINTR` is not retried: on Linux the descriptor is gone either way.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
