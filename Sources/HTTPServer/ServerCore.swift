import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A complete request handed from the event loop to a worker, with the connection it came on.
struct Job: Sendable {
    let fd: Int32
    let request: HTTPRequest
    let keepAlive: Bool
    /// Bytes read past this request (pipelining); they start the next request.
    let leftover: [UInt8]
}

/// What a worker hands back to the event loop after writing a response.
enum ReturnedConnection: Sendable {
    /// Reuse for the next request.
    case keepAlive(fd: Int32, leftover: [UInt8])
    /// The response said `Connection: close`: half-close and discard input for the linger time.
    case drain(fd: Int32)
    /// The write failed: close at once.
    case close(fd: Int32)

    var fd: Int32 {
        switch self {
        case .keepAlive(let fd, _), .drain(let fd), .close(let fd): fd
        }
    }
}

/// Everything the event loop thread and the worker threads share. Immutable apart from the
/// `Mutex`-protected hand-off state and the `WorkQueue`, so it is `Sendable` without exceptions.
final class ServerCore: Sendable {
    struct Handoff {
        var returned: [ReturnedConnection] = []
        /// Descriptors owned by workers right now; `stop()` shuts them down to cut short a write.
        var inFlight: Set<Int32> = []
        var loopRunning = true
        var stopRequested = false
    }

    let configuration: HTTPServer.Configuration
    let handler: HTTPHandler
    let listener: Int32
    let wakeRead: Int32
    let wakeWrite: Int32
    /// Number of worker threads actually started (at least one).
    let workerCount: Int
    let handoff = Mutex(Handoff())
    let queue = WorkQueue<Job>()

    init(configuration: HTTPServer.Configuration, handler: @escaping HTTPHandler, listener: Int32, wakeRead: Int32, wakeWrite: Int32) {
        self.configuration = configuration
        self.handler = handler
        self.listener = listener
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
        self.workerCount = max(1, configuration.workerThreadCount)
    }

    /// Interrupts the loop's `poll`. The pipe is non-blocking; if it is full a wake-up is already pending.
    func wake() {
        var byte: UInt8 = 1
        while write(wakeWrite, &byte, 1) < 0 && errno == EINTR {}
    }

    func requestStop() {
        handoff.withLock { $0.stopRequested = true }
        wake()
    }

    /// Worker thread body: run jobs until the queue closes.
    func runWorker() {
        while let job = queue.next() {
            serve(job)
        }
    }

    private func serve(_ job: Job) {
        let response = handler(job.request)
        let keepAlive = job.keepAlive && !ResponseSerializer.handlerRequestsClose(response)
        let bytes = ResponseSerializer.serialize(
            response, omitBody: job.request.method == "HEAD", keepAlive: keepAlive, requestVersion: job.request.version
        )
        let deadline = MonotonicClock.now() + configuration.sendTimeout.clampedNanoseconds
        let outcome: ReturnedConnection
        if !Socket.sendAll(job.fd, bytes, deadline: deadline) {
            outcome = .close(fd: job.fd)
        } else if keepAlive {
            outcome = .keepAlive(fd: job.fd, leftover: job.leftover)
        } else {
            outcome = .drain(fd: job.fd)
        }
        giveBack(outcome)
    }

    /// Returns a connection to the loop, or closes it if the loop has already stopped.
    func giveBack(_ connection: ReturnedConnection) {
        let delivered = handoff.withLock { state in
            state.inFlight.remove(connection.fd)
            guard state.loopRunning else {
                Socket.close(connection.fd)
                return false
            }
            state.returned.append(connection)
            return true
        }
        if delivered { wake() }
    }
}
