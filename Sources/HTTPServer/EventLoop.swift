#if canImport(Glibc)
import Glibc
#endif

/// The single thread that owns every connection that is not being served by a worker.
///
/// It accepts, reads request heads and bodies non-blocking for all connections with one
/// `poll()`, enforces each connection's absolute deadline, answers protocol errors itself
/// with canned replies, and hands complete requests to the worker pool. Idle or slow clients
/// therefore cost a descriptor and a small buffer each, never a thread, which is what keeps
/// the server answering while hundreds of connections sit idle.
///
/// This struct is created on, and never leaves, the loop thread.
struct EventLoop {
    private struct Connection {
        enum Phase {
            /// Keep-alive connection waiting for the first byte of its next request.
            case idle(deadline: UInt64)
            case head(deadline: UInt64, scanner: HeadScanner, sawBytes: Bool)
            case body(deadline: UInt64, head: RequestHead, headLength: Int)
            /// Response sent and write side shut down; discarding input until EOF or deadline.
            case draining(deadline: UInt64, discarded: Int)

            var deadline: UInt64 {
                switch self {
                case .idle(let d), .head(let d, _, _), .body(let d, _, _), .draining(let d, _): d
                }
            }
        }

        let fd: Int32
        var buffer: [UInt8]
        var phase: Phase
    }

    private enum Step {
        case keep(Connection)
        case dispatch(Job)
        case reject(Connection, HTTPStatus)
    }

    /// Discarding stops (and the connection closes) after this much input.
    private static let maxDrainBytes = 1 << 20
    private static let maxAcceptsPerWakeup = 64

    private let core: ServerCore
    private let configuration: HTTPServer.Configuration
    private let limits: HeadLimits
    private var connections: [Int32: Connection] = [:]
    private var inFlightCount = 0
    /// While out of descriptors, the listener is left out of `poll` until this time, so a
    /// pending connection that cannot be accepted does not make the loop spin.
    private var acceptPausedUntil: UInt64 = 0
    private static let acceptPause: UInt64 = 100_000_000
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)

    init(core: ServerCore) {
        self.core = core
        self.configuration = core.configuration
        self.limits = core.configuration.headLimits
    }

    mutating func run() {
        var pollSet: [pollfd] = []
        while !core.handoff.withLock({ $0.stopRequested }) {
            takeReturnedConnections()
            pollSet.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: core.wakeRead, events: Int16(POLLIN), revents: 0))
            let now = MonotonicClock.now()
            let listening = now >= acceptPausedUntil
            // poll ignores negative descriptors, which keeps the indices below fixed.
            pollSet.append(pollfd(fd: listening ? core.listener : -1, events: Int16(POLLIN), revents: 0))
            var nearest = listening ? UInt64.max : acceptPausedUntil
            for (fd, connection) in connections {
                pollSet.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                nearest = min(nearest, connection.phase.deadline)
            }
            let timeoutMs: Int32 = nearest == .max ? 1_000 : Int32(min((nearest &- min(nearest, now) + 999_999) / 1_000_000, 1_000))
            let ready = poll(&pollSet, nfds_t(pollSet.count), timeoutMs)
            if ready < 0 {
                if errno != EINTR { usleep(10_000) }  // ENOMEM and the like: back off, do not spin.
                continue
            }
            if pollSet[0].revents != 0 { drainWakePipe() }
            if pollSet[1].revents != 0 { acceptPending() }
            for entry in pollSet.dropFirst(2) where entry.revents != 0 {
                readReady(entry.fd)
            }
            expireDeadlines(now: MonotonicClock.now())
        }
        tearDown()
    }

    // MARK: - Accepting

    private mutating func acceptPending() {
        for _ in 0..<Self.maxAcceptsPerWakeup {
            let fd: Int32
            switch Socket.accept(core.listener) {
            case .accepted(let accepted):
                fd = accepted
            case .empty:
                return
            case .exhausted:
                acceptPausedUntil = MonotonicClock.now() + Self.acceptPause
                return
            }
            if connections.count + inFlightCount >= configuration.maxConnections {
                Socket.sendOnce(fd, ResponseSerializer.errorReply(.serviceUnavailable))
                Socket.close(fd)
                continue
            }
            Socket.configureAccepted(fd, sendTimeout: configuration.sendTimeout)
            let deadline = MonotonicClock.now() + configuration.headReadDeadline.clampedNanoseconds
            connections[fd] = Connection(fd: fd, buffer: [], phase: .head(deadline: deadline, scanner: HeadScanner(), sawBytes: false))
        }
    }

    // MARK: - Reading

    private mutating func readReady(_ fd: Int32) {
        // Taken out of the dictionary so appending to its buffer does not copy it.
        guard var connection = connections.removeValue(forKey: fd) else { return }
        let maxBytes: Int
        switch connection.phase {
        case .idle, .head:
            maxBytes = max(1, limits.maxHeadBytes + 1 - connection.buffer.count)
        case .body(_, let head, let headLength):
            maxBytes = max(1, headLength + head.contentLength - connection.buffer.count)
        case .draining:
            maxBytes = scratch.count
        }
        switch Socket.receive(fd, into: &connection.buffer, maxBytes: maxBytes, scratch: &scratch) {
        case .closed:
            Socket.close(fd)
            return
        case .wouldBlock:
            connections[fd] = connection
            return
        case .received(let count):
            if case .draining(let deadline, let discarded) = connection.phase {
                connection.buffer.removeAll(keepingCapacity: true)
                guard discarded + count <= Self.maxDrainBytes else {
                    Socket.close(fd)
                    return
                }
                connection.phase = .draining(deadline: deadline, discarded: discarded + count)
                connections[fd] = connection
                return
            }
        }
        apply(advance(connection))
    }

    /// Moves a connection forward as far as its buffered bytes allow.
    private func advance(_ connection: Connection) -> Step {
        var connection = connection
        while true {
            switch connection.phase {
            case .idle:
                guard !connection.buffer.isEmpty else { return .keep(connection) }
                let deadline = MonotonicClock.now() + configuration.headReadDeadline.clampedNanoseconds
                connection.phase = .head(deadline: deadline, scanner: HeadScanner(), sawBytes: true)

            case .head(let deadline, var scanner, _):
                let outcome = scanner.scan(connection.buffer, limits: limits)
                connection.phase = .head(deadline: deadline, scanner: scanner, sawBytes: !connection.buffer.isEmpty)
                switch outcome {
                case .needMore:
                    return .keep(connection)
                case .reject(let status):
                    return .reject(connection, status)
                case .complete(let headLength):
                    switch RequestHeadParser.parse(connection.buffer[0..<headLength], limits: limits) {
                    case .failure(let status):
                        return .reject(connection, status)
                    case .success(let head):
                        let bodyDeadline = MonotonicClock.now() + configuration.bodyReadDeadline.clampedNanoseconds
                        connection.phase = .body(deadline: bodyDeadline, head: head, headLength: headLength)
                        if head.expectsContinue && connection.buffer.count == headLength {
                            Socket.sendOnce(connection.fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                        }
                    }
                }

            case .body(_, let head, let headLength):
                let end = headLength + head.contentLength
                guard connection.buffer.count >= end else { return .keep(connection) }
                let request = HTTPRequest(
                    method: head.method, path: head.path, query: head.query, version: head.version,
                    headers: head.headers, body: Array(connection.buffer[headLength..<end]),
                    peer: PeerAddress.of(socket: connection.fd)
                )
                return .dispatch(Job(fd: connection.fd, request: request, keepAlive: head.keepAlive, leftover: Array(connection.buffer[end...])))

            case .draining:
                return .keep(connection)
            }
        }
    }

    private mutating func apply(_ step: Step) {
        switch step {
        case .keep(let connection):
            connections[connection.fd] = connection
        case .reject(let connection, let status):
            reject(connection, status)
        case .dispatch(let job):
            inFlightCount += 1
            core.handoff.withLock { _ = $0.inFlight.insert(job.fd) }
            if !core.queue.submit(job) {
                inFlightCount -= 1
                core.handoff.withLock { _ = $0.inFlight.remove(job.fd) }
                Socket.close(job.fd)
            }
        }
    }

    /// Sends a canned error reply, half-closes, and lingers so the client can read it.
    private mutating func reject(_ connection: Connection, _ status: HTTPStatus) {
        Socket.sendOnce(connection.fd, ResponseSerializer.errorReply(status))
        startDraining(connection.fd)
    }

    private mutating func startDraining(_ fd: Int32) {
        Socket.shutdownWrite(fd)
        let deadline = MonotonicClock.now() + configuration.lingerTimeout.clampedNanoseconds
        connections[fd] = Connection(fd: fd, buffer: [], phase: .draining(deadline: deadline, discarded: 0))
    }

    // MARK: - Deadlines and hand-back

    private mutating func expireDeadlines(now: UInt64) {
        let expired = connections.values.filter { $0.phase.deadline <= now }
        for connection in expired {
            connections[connection.fd] = nil
            switch connection.phase {
            case .head(_, _, true), .body:
                reject(connection, .requestTimeout)
            case .idle, .head, .draining:
                Socket.close(connection.fd)
            }
        }
    }

    private mutating func takeReturnedConnections() {
        let returned = core.handoff.withLock { state in
            defer { state.returned.removeAll() }
            return state.returned
        }
        for connection in returned {
            inFlightCount -= 1
            switch connection {
            case .close(let fd):
                Socket.close(fd)
            case .drain(let fd):
                startDraining(fd)
            case .keepAlive(let fd, let leftover):
                let deadline = MonotonicClock.now() + configuration.idleTimeout.clampedNanoseconds
                apply(advance(Connection(fd: fd, buffer: leftover, phase: .idle(deadline: deadline))))
            }
        }
    }

    private func drainWakePipe() {
        var sink = [UInt8](repeating: 0, count: 256)
        while sink.withUnsafeMutableBytes({ read(core.wakeRead, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Closes everything the loop owns and cuts short writes in progress on worker threads.
    private mutating func tearDown() {
        Socket.close(core.listener)
        for fd in connections.keys { Socket.close(fd) }
        connections.removeAll()
        core.handoff.withLock { state in
            state.loopRunning = false
            for fd in state.inFlight { Socket.shutdownBoth(fd) }
            for connection in state.returned { Socket.close(connection.fd) }
            state.returned.removeAll()
        }
        let pending = core.queue.close(waking: core.workerCount)
        for job in pending {
            core.handoff.withLock { _ = $0.inFlight.remove(job.fd) }
            Socket.close(job.fd)
        }
    }
}
