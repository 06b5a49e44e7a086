import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small, hardened HTTP/1.1 server on POSIX sockets, with no knowledge of what it serves.
///
/// It exists so the worker can expose status, metrics and one control endpoint without a
/// networking dependency and without touching Swift's cooperative thread pool: one event-loop
/// thread multiplexes every connection with `poll()`, and `workerThreadCount` threads run the
/// handler. See `Configuration` for the limits, and `RequestHeadParser` for what is refused.
///
/// ```swift
/// let server = HTTPServer(configuration: .init(port: 9090)) { request in
///     request.path == "/healthz" ? .text("ok\n") : .notFound()
/// }
/// let port = try server.start()
/// defer { server.stop() }
/// ```
public final class HTTPServer: Sendable {
    private enum Lifecycle {
        case idle
        case running(core: ServerCore, threads: [JoinableThread], port: UInt16)
        case stopped
    }

    /// The configuration the server was created with.
    public let configuration: Configuration
    private let handler: HTTPHandler
    private let lifecycle = Mutex(Lifecycle.idle)

    /// Creates a server; nothing is bound until `start()`.
    public init(configuration: Configuration = Configuration(), handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    deinit {
        stop(timeout: .seconds(1))
    }

    /// The bound port while running, else nil.
    public var port: UInt16? {
        lifecycle.withLock { state in
            if case .running(_, _, let port) = state { return port }
            return nil
        }
    }

    /// Binds, listens and starts the threads. Returns the bound port, which is the useful
    /// value when `configuration.port` is 0. A server can be started once.
    @discardableResult
    public func start() throws -> UInt16 {
        try lifecycle.withLock { state in
            guard case .idle = state else { throw SocketError(operation: "start (already started or stopped)", code: EINVAL) }
            let listener = try Socket.makeListener(
                host: configuration.host, port: configuration.port, backlog: configuration.listenBacklog
            )
            let wakePipe: (read: Int32, write: Int32)
            do {
                wakePipe = try Socket.makeWakePipe()
            } catch {
                Socket.close(listener.fd)
                throw error
            }
            let core = ServerCore(
                configuration: configuration, handler: handler,
                listener: listener.fd, wakeRead: wakePipe.read, wakeWrite: wakePipe.write
            )
            var threads: [JoinableThread] = []
            do {
                threads.append(try JoinableThread(name: "kek-http-loop") {
                    var loop = EventLoop(core: core)
                    loop.run()
                })
                for index in 0..<core.workerCount {
                    threads.append(try JoinableThread(name: "kek-http-w\(index)") { core.runWorker() })
                }
            } catch {
                core.requestStop()
                for thread in threads { _ = thread.join(timeout: .seconds(2)) }
                throw error
            }
            state = .running(core: core, threads: threads, port: listener.port)
            return listener.port
        }
    }

    /// Stops accepting, closes every connection, and joins the threads.
    ///
    /// Bounded: writes in progress are cut short by shutting their sockets down, and a handler
    /// that is still running after `timeout` is left behind (its thread is detached). Returns
    /// whether every thread finished in time. Safe to call more than once.
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) -> Bool {
        let running: (ServerCore, [JoinableThread])? = lifecycle.withLock { state in
            guard case .running(let core, let threads, _) = state else {
                state = .stopped
                return nil
            }
            state = .stopped
            return (core, threads)
        }
        guard let (core, threads) = running else { return true }
        core.requestStop()
        let deadline = MonotonicClock.now() + timeout.clampedNanoseconds
        var allFinished = true
        for thread in threads {
            let remaining = deadline &- min(deadline, MonotonicClock.now())
            allFinished = thread.join(timeout: .nanoseconds(Int64(remaining))) && allFinished
        }
        if allFinished {
            Socket.close(core.wakeRead)
            Socket.close(core.wakeWrite)
        }
        return allFinished
    }
}
