import Foundation
import JobQueue
import PostgresClient
import KeyManagement
import StatusAPI

extension Command {
    static let status = Command(
        name: "status",
        abstract: "Show KEKs, jobs with progress, workers, and the last and next rotation.",
        discussion: """
            Reads the database directly (no server needed); '--json' prints the document of GET /status.
            '--watch' refreshes every --interval until SIGINT (or --count refreshes); rows/s then
            cover the last minute. Needs DATABASE_URL.
            """,
        options: [
            .flag("json", "Print the JSON document of GET /status."),
            .flag("watch", "Refresh until SIGINT."),
            .value("interval", "DURATION", "Time between refreshes with --watch.", default: "2s"),
            .value("count", "N", "With --watch: stop after N refreshes."),
            .value("schedule-dir", "DIR", "Schedule files, for the next rotation's due time (default: $KEK_SCHEDULE_DIR; none when unset)."),
            .flag("no-schedules", "Load no schedules (the next rotation is reported as unknown)."),
        ],
        run: { arguments in
            let interval = try arguments.duration("interval") ?? 2
            let count = try arguments.int("count")
            guard interval > 0, (count ?? 1) > 0 else { throw UsageError("kek status: --interval and --count must be positive") }
            let expected = try Database.migrator().latestVersion
            let reporter = StatusReporter(connection: try Database.connect(), schedules: try ScheduleFolder.load(arguments),
                                          expectedSchemaVersion: expected)
            let rootKeys = KEKHealthOutput.environmentRootKeys()
            let watch = arguments.flag("watch")
            if watch { ShutdownSignal.install() }
            var shown = 0
            var outage = ConnectionOutage()
            repeat {
                let report: StatusReport
                do {
                    report = try reporter.report()
                    if let seconds = outage.recovered() { Terminal.note(String(format: "kek status: database answering again after %.1fs", seconds)) }
                } catch where watch && ConnectionOutage.isOutage(error) {
                    // --watch outlives a database restart: one line when it goes, one when it is back.
                    let (delay, started) = outage.failed()
                    if started { Terminal.note("kek status: \(error); retrying until it answers") }
                    let deadline = Date().addingTimeInterval(delay)
                    while !ShutdownSignal.requested && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
                    continue
                }
                if arguments.flag("json") {
                    print(try JSONCodec.encodePretty(report))
                } else {
                    if watch && isatty(1) == 1 { print("\u{1B}[H\u{1B}[2J", terminator: "") } else if shown > 0 { print("") }
                    print(StatusTable.render(report))
                }
                try KEKHealthOutput.report(reporter.connection, rootKeys: rootKeys, json: arguments.flag("json"))
                fflush(nil)
                shown += 1
                if !watch || shown == count { break }
                let deadline = Date().addingTimeInterval(interval)
                while !ShutdownSignal.requested && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            } while !ShutdownSignal.requested
        }
    )
}
