import Foundation
import JobQueue
import PostgresClient
import StatusAPI

/// Starting the status server from `kek serve` and `kek worker --status-listen`: the
/// address, the token from `KEK_STATUS_TOKEN`, the schema version this binary ships.
enum StatusListen {
    /// The default address: loopback, on a port outside the Prometheus exporters' allocation
    /// range 9100-9999 (that range is fully allocated; 9187 is postgres_exporter's).
    static let defaultListen = "127.0.0.1:7837"

    /// `HOST:PORT`; IPv6 in brackets (`[::1]:7837`); a host name (`localhost`) is resolved to
    /// its first address, IPv4 first. Port 0 picks a free one.
    static func parse(_ text: String, option: String) throws -> (host: String, port: UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw UsageError("\(option) expects HOST:PORT like \(defaultListen), got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw UsageError("\(option) expects HOST:PORT like \(defaultListen), got '\(text)'") }
        guard let address = HostName.numericAddress(host) else {
            throw UsageError("\(option): cannot resolve host '\(host)' to an address")
        }
        return (address, port)
    }

    static func configuration(listen: String, option: String, requireToken: Bool, publicReads: Bool, allowHosts: String?,
                              schedules: [JobSchedule], actor: String) throws -> StatusConfiguration {
        let address = try parse(listen, option: option)
        var configuration = StatusConfiguration(databaseURL: try Database.requiredURL())
        configuration.http.host = address.host
        configuration.http.port = address.port
        configuration.token = try EnvironmentSecret.value("KEK_STATUS_TOKEN").flatMap(BearerToken.init)
        if requireToken && configuration.token == nil {
            throw UsageError("--require-token needs KEK_STATUS_TOKEN (or KEK_STATUS_TOKEN_FILE) to be set (and not empty)")
        }
        configuration.requireTokenForReads = requireToken
        let extra = allowHosts ?? ProcessInfo.processInfo.environment["KEK_STATUS_ALLOWED_HOSTS"] ?? ""
        configuration.extraHostNames = extra.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let problem = configuration.requireTokenOffLoopback(publicReads: publicReads) { throw UsageError("\(option): \(problem)") }
        configuration.schedules = schedules
        configuration.actor = actor
        configuration.expectedSchemaVersion = try Database.migrator().latestVersion
        configuration.version = KekVersion.current
        return configuration
    }

    /// Starts the server and announces the bound address on stderr (scripts and tests read it).
    static func start(_ configuration: StatusConfiguration) throws -> StatusServer {
        let server = StatusServer(configuration: configuration)
        let port: UInt16
        do {
            port = try server.start()
        } catch {
            throw CommandFailure("cannot listen on \(configuration.http.host):\(configuration.http.port): \(error)")
        }
        let host = configuration.http.host.contains(":") ? "[\(configuration.http.host)]" : configuration.http.host
        Terminal.note("status listening on http://\(host):\(port)"
            + (configuration.token == nil ? " (POST /api/v1/kek/rotate off: KEK_STATUS_TOKEN not set)" : ""))
        return server
    }
}
