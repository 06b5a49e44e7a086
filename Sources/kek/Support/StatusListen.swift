import Foundation
import JobQueue
import PostgresClient
import StatusAPI

/// Starting the status server from `kek serve` and `kek worker --status-listen`: the
/// address, the token from `KEK_STATUS_TOKEN`, the schema version this binary ships.
enum StatusListen {
    /// `HOST:PORT` with a numeric host; IPv6 in brackets (`[::1]:9187`). Port 0 picks a free one.
    static func parse(_ text: String, option: String) throws -> (host: String, port: UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw UsageError("\(option) expects HOST:PORT like 127.0.0.1:9187, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw UsageError("\(option) expects HOST:PORT like 127.0.0.1:9187, got '\(text)'") }
        return (host, port)
    }

    static func configuration(listen: String, option: String, requireToken: Bool, publicReads: Bool, allowHosts: String?,
                              schedules: [JobSchedule], actor: String) throws -> StatusConfiguration {
        let address = try parse(listen, option: option)
        var configuration = StatusConfiguration(databaseURL: try Database.requiredURL())
        configuration.http.host = address.host
        configuration.http.port = address.port
        configuration.token = ProcessInfo.processInfo.environment["KEK_STATUS_TOKEN"].flatMap(BearerToken.init)
        if requireToken && configuration.token == nil {
            throw UsageError("--require-token needs KEK_STATUS_TOKEN to be set (and not empty)")
        }
        configuration.requireTokenForReads = requireToken
        let extra = allowHosts ?? ProcessInfo.processInfo.environment["KEK_STATUS_ALLOWED_HOSTS"] ?? ""
        configuration.extraHostNames = extra.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let problem = configuration.requireTokenOffLoopback(publicReads: publicReads) { throw UsageError("\(option): \(problem)") }
        configuration.schedules = schedules
        configuration.actor = actor
        do {
            configuration.expectedSchemaVersion = try SchemaMigrator(directory: try SQLDirectory.locate()).latestVersion
        } catch {
            Terminal.note("kek: warning: \(error); /readyz will only check that the database answers")
        }
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
