import HTTPServer
import JobQueue

/// Everything the status server needs; the CLI fills it from flags and the environment.
public struct StatusConfiguration: Sendable {
    /// The database to report on. The server opens its own connections (one for the
    /// refresher, one for writes) and never shares a worker's.
    public var databaseURL: String
    /// Where to listen, and the HTTP limits. More connections than the HTTP default, since a
    /// status port may see many idle dashboard connections; each is still cut off by the
    /// head deadline.
    public var http = HTTPServer.Configuration(host: "127.0.0.1", port: 0, maxConnections: 1_024)
    /// The control token; nil turns `POST /api/v1/kek/rotate` off (404).
    public var token: BearerToken?
    /// When true, every endpoint but `/healthz` needs the token too.
    public var requireTokenForReads = false
    /// The `Host:` names answered besides the listen address (and `localhost` on loopback).
    public var extraHostNames: [String] = []
    /// The migration version this program ships; `/readyz` is 503 until the database has it.
    public var expectedSchemaVersion: Int?
    /// Schedules loaded by the process, for the next rotation's due time.
    public var schedules: [JobSchedule] = []
    /// Seconds between snapshot refreshes.
    public var refreshInterval: Double = 1
    /// Per-statement limit on the status queries.
    public var statementTimeoutMilliseconds = 2_000
    /// Finished top-level jobs listed after the active ones.
    public var recentJobs = 10
    /// Who the audit rows of refused requests name.
    public var actor = "status-api"
    /// The gates of the worker this server runs in (`kek worker --status-listen`): a closed
    /// gate makes `/readyz` 503 with its reason and shows as `kek_worker_<name>_ready 0`.
    public var processReadiness: (@Sendable () -> [JobKindGate.Status])?

    public init(databaseURL: String) {
        self.databaseURL = databaseURL
    }

    /// The `Host:` values answered.
    var hostAllowList: HostAllowList { HostAllowList(listenHost: http.host, extraNames: extraHostNames) }

    /// Applies the exposure rule: on a non-loopback address every endpoint but `/healthz`
    /// needs the token, unless `publicReads` says otherwise. Returns why the configuration
    /// cannot be served (a non-loopback address with neither a token nor `publicReads`).
    public mutating func requireTokenOffLoopback(publicReads: Bool) -> String? {
        guard !HostAllowList.isLoopback(http.host), !publicReads else { return nil }
        guard token != nil else {
            return "listening on \(http.host), a non-loopback address, needs KEK_STATUS_TOKEN (every endpoint but /healthz "
                + "then asks for it), or the public-reads flag to serve reads without a token"
        }
        requireTokenForReads = true
        return nil
    }

    /// How old the last database answer may be before `/readyz` says 503.
    var readinessWindow: Double { max(3, 3 * refreshInterval) }
    /// How old a report may be before `/status` and `/metrics` refuse to serve it.
    var staleAfter: Double { max(10, 5 * refreshInterval) }
}
