import Foundation
import StatusAPI

extension Command {
    static let serve = Command.typed(
        "serve",
        abstract: "Serve status, health, metrics and the rotation endpoint over HTTP, until SIGTERM or SIGINT.",
        discussion: """
            GET /status (and /api/v1/kek/status), /healthz, /readyz, /metrics, /openapi.json;
            POST /api/v1/kek/rotate when KEK_STATUS_TOKEN is set (Authorization: Bearer <token>).
            Answers come from a snapshot of the database refreshed every second on the server's own
            connection. Prints 'status listening on http://HOST:PORT' on stderr. Needs DATABASE_URL.
            The same server runs inside 'kek worker --status-listen HOST:PORT'. SIGHUP is ignored
            (restart to apply new settings).
            """,
        options: ServeOptions.self,
        run: { options in
            let configuration = try StatusListen.configuration(
                listen: options.listen, option: "kek serve: --listen", requireToken: options.requireToken,
                publicReads: options.publicReads, allowHosts: options.allowHost, schedules: try options.schedules.load(),
                actor: "status-api@\(Actor.current)")
            ShutdownSignal.install()
            let server = try StatusListen.start(configuration)
            while !ShutdownSignal.requested { Thread.sleep(forTimeInterval: 0.05) }
            server.stop()
        }
    )
}

/// `kek serve`'s options.
struct ServeOptions: CommandOptions {
    var listen = StatusListen.defaultListen
    var requireToken = false
    var publicReads = false
    var allowHost: String?
    var schedules = ScheduleSelection()

    static let fields: [OptionField<Self>] = [
        .value("listen", "HOST:PORT", "Address to listen on (a host name is resolved; port 0 picks a free one).", \.listen, .text,
               env: "KEK_LISTEN"),
        .flag("require-token", "Every endpoint but /healthz needs the bearer token too (the default off loopback).", \.requireToken,
              env: "KEK_REQUIRE_TOKEN"),
        .flag("public-reads", "On a non-loopback address, serve the read endpoints without the token.", \.publicReads,
              env: "KEK_PUBLIC_READS"),
        .value("allow-host", "NAMES", "Comma-separated Host: names answered besides the listen address (or KEK_STATUS_ALLOWED_HOSTS).",
               \.allowHost, .text),
    ] + OptionField.group(\.schedules, ScheduleSelection.fields)
}
