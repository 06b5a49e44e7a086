import Foundation
import JobQueue
import PostgresClient
import KeyManagement
import StatusAPI

extension Command {
    static let status = Command.typed(
        "status",
        abstract: "Show KEKs, jobs with progress, workers, and the last and next rotation.",
        discussion: """
            Reads the database directly (no server needed); '--json' prints the document of GET /status.
            '--watch' refreshes every --interval until SIGINT (or --count refreshes); rows/s then
            cover the last minute. Needs DATABASE_URL.
            """,
        options: StatusOptions.self,
        run: { options in
            let interval = options.interval
            let count = options.count
            let expected = try Database.migrator().latestVersion
            let reporter = StatusReporter(connection: try Database.connect(), schedules: try options.schedules.load(),
                                          expectedSchemaVersion: expected)
            let rootKeys = KEKHealthOutput.environmentRootKeys()
            let watch = options.watch
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
                if options.json {
                    print(try JSONCodec.encodePretty(report))
                } else {
                    if watch && isatty(1) == 1 { print("\u{1B}[H\u{1B}[2J", terminator: "") } else if shown > 0 { print("") }
                    print(StatusTable.render(report))
                }
                try KEKHealthOutput.report(reporter.connection, rootKeys: rootKeys, json: options.json)
                fflush(nil)
                shown += 1
                if !watch || shown == count { break }
                let deadline = Date().addingTimeInterval(interval)
                while !ShutdownSignal.requested && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            } while !ShutdownSignal.requested
        }
    )
}

/// `kek status`'s options.
struct StatusOptions: CommandOptions {
    var json = false
    var watch = false
    var interval: TimeInterval = 2
    var count: Int?
    var schedules = ScheduleSelection()

    static let fields: [OptionField<Self>] = [
        .flag("json", "Print the JSON document of GET /status.", \.json),
        .flag("watch", "Refresh until SIGINT.", \.watch),
        .value("interval", "DURATION", "Time between refreshes with --watch.", \.interval,
               OptionParser.duration.checked("a positive duration like 2s or 500ms") { $0 > 0 }),
        .value("count", "N", "With --watch: stop after N refreshes.", \.count, OptionParser.int.checked("a positive whole number") { $0 > 0 }),
    ] + OptionField.group(\.schedules, ScheduleSelection.fields)
}
