import HTTPServer

/// The status endpoints on their own HTTP server, for `kek serve` and `kek worker --status-listen`.
///
/// Handlers answer from a snapshot that one refresher thread rebuilds every
/// `refreshInterval` on its own connection, so the server never touches a worker's
/// connections and its cost to the database does not grow with the number of clients.
/// Writes (a rotation request, an audit row for a refused one) go through one more
/// connection, used by one handler at a time.
///
/// ```swift
/// let server = StatusServer(configuration: StatusConfiguration(databaseURL: url))
/// let port = try server.start()
/// defer { server.stop() }
/// ```
public final class StatusServer: Sendable {
    public let configuration: StatusConfiguration
    private let store = SnapshotStore()
    private let refresher: SnapshotRefresher
    private let http: HTTPServer

    public init(configuration: StatusConfiguration) {
        self.configuration = configuration
        refresher = SnapshotRefresher(configuration: configuration, store: store)
        let database = SharedConnection(url: configuration.databaseURL,
                                        statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds)
        let routes = StatusRoutes(configuration: configuration, store: store, database: database,
                                  refusals: RefusalAudit(database: database, actor: configuration.actor))
        let router = routes.router
        let hosts = configuration.hostAllowList
        http = HTTPServer(configuration: configuration.http) { request in
            guard hosts.allows(request.headers["Host"]) else {
                return ErrorBody.response(.forbidden, "this server does not answer for that Host header")
            }
            return router.handle(request)
        }
    }

    /// Binds the port, starts the refresher (waiting briefly for its first report) and
    /// returns the bound port (the useful value when the configured port is 0).
    @discardableResult
    public func start() throws -> UInt16 {
        let port = try http.start()
        refresher.start()
        return port
    }

    /// Stops the HTTP server and the refresher; bounded, safe to call twice.
    public func stop() {
        http.stop(timeout: .seconds(3))
        refresher.stop()
    }

    /// The bound port while running.
    public var port: UInt16? { http.port }
}
