import Foundation
import StatusAPI

extension Command {
    static let serve = Command(
        name: "serve",
        abstract: "Serve status, health, metrics and the rotation endpoint over HTTP, until SIGTERM or SIGINT.",
        discussion: """
            GET /status (and /api/v1/kek/status), /healthz, /readyz, /metrics, /openapi.json;
            POST /api/v1/kek/rotate when KEK_STATUS_TOKEN is set (Authorization: Bearer <token>).
            Answers come from a snapshot of the database refreshed every second on the server's own
            connection. Prints 'status listening on http://HOST:PORT' on stderr. Needs DATABASE_URL.
            The same server runs inside 'kek worker --status-listen HOST:PORT'.
            """,
        options: [
            .value("listen", "HOST:PORT", "Address to listen on (numeric; port 0 picks a free one).", default: "127.0.0.1:9187"),
            .flag("require-token", "Every endpoint but /healthz needs the bearer token too (the default off loopback)."),
            .flag("public-reads", "On a non-loopback address, serve the read endpoints without the token."),
            .value("allow-host", "NAMES", "Comma-separated Host: names answered besides the listen address (or KEK_STATUS_ALLOWED_HOSTS)."),
            .value("schedule-dir", "DIR", "Schedule files, for the next rotation's due time (default: ./jobs when present)."),
            .flag("no-schedules", "Load no schedules (the next rotation is reported as unknown)."),
        ],
        run: { arguments in
            let configuration = try StatusListen.configuration(
                listen: arguments.string("listen") ?? "127.0.0.1:9187", option: "kek serve: --listen",
                requireToken: arguments.flag("require-token"), publicReads: arguments.flag("public-reads"),
                allowHosts: arguments.string("allow-host"), schedules: try ScheduleFolder.load(arguments),
                actor: "status-api@\(Actor.current)")
            ShutdownSignal.install()
            let server = try StatusListen.start(configuration)
            while !ShutdownSignal.requested { Thread.sleep(forTimeInterval: 0.05) }
            server.stop()
        }
    )
}
