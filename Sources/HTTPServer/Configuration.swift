extension HTTPServer {
    /// Limits and timeouts. The defaults suit a loopback status endpoint: small heads, a
    /// small body for one POST, a few worker threads, and deadlines that a slow or hostile
    /// client cannot stretch.
    public struct Configuration: Sendable {
        /// Numeric IPv4 or IPv6 address to bind. Loopback by default so nothing is exposed by accident.
        public var host: String
        /// TCP port; 0 picks a free one (`start()` returns it).
        public var port: UInt16
        /// Cap on request line + headers + terminating empty line. Larger → 431 and close.
        public var maxHeadBytes: Int
        /// Cap on header lines. More → 431 and close.
        public var maxHeaderCount: Int
        /// Cap on a request body, which must come with `Content-Length`. Larger → 413 and close.
        public var maxBodyBytes: Int
        /// Absolute deadline for a whole request head, counted from accept (or from the first
        /// byte of a keep-alive request). Not reset by progress, so trickling bytes does not help.
        /// Expiry → 408 if any byte arrived, then close.
        public var headReadDeadline: Duration
        /// Absolute deadline for the body once the head is complete. Expiry → 408 and close.
        public var bodyReadDeadline: Duration
        /// How long a keep-alive connection may sit with no new request before it is closed.
        public var idleTimeout: Duration
        /// Absolute deadline for writing one response; a client that does not read is dropped.
        public var sendTimeout: Duration
        /// After a response that ends the connection, how long to keep discarding input before
        /// closing, so the client sees the response rather than a reset.
        public var lingerTimeout: Duration
        /// Open connections, idle or busy. Beyond it new connections get a best-effort 503 and are closed.
        public var maxConnections: Int
        /// Threads that run the handler. The event loop thread is extra.
        public var workerThreadCount: Int
        /// `listen(2)` backlog.
        public var listenBacklog: Int32

        public init(
            host: String = "127.0.0.1",
            port: UInt16 = 0,
            maxHeadBytes: Int = 8 * 1024,
            maxHeaderCount: Int = 64,
            maxBodyBytes: Int = 64 * 1024,
            headReadDeadline: Duration = .seconds(5),
            bodyReadDeadline: Duration = .seconds(5),
            idleTimeout: Duration = .seconds(15),
            sendTimeout: Duration = .seconds(5),
            lingerTimeout: Duration = .seconds(1),
            maxConnections: Int = 256,
            workerThreadCount: Int = 2,
            listenBacklog: Int32 = 128
        ) {
            self.host = host
            self.port = port
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
            self.headReadDeadline = headReadDeadline
            self.bodyReadDeadline = bodyReadDeadline
            self.idleTimeout = idleTimeout
            self.sendTimeout = sendTimeout
            self.lingerTimeout = lingerTimeout
            self.maxConnections = maxConnections
            self.workerThreadCount = workerThreadCount
            self.listenBacklog = listenBacklog
        }

        var headLimits: HeadLimits {
            HeadLimits(maxHeadBytes: maxHeadBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
        }
    }
}
