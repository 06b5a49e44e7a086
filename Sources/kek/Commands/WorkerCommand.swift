import Foundation
import JobQueue
import KeyManagement
import StatusAPI

extension Command {
    static let worker = Command.typed(
        "worker",
        abstract: "Run jobs: N loops claiming from the jobs table, until SIGTERM or SIGINT.",
        discussion: """
            Any number of workers on any number of machines may run at once; PostgreSQL is the
            only coordinator. On SIGTERM/SIGINT each loop finishes the batch in hand, puts its job
            back in the queue at that checkpoint (no attempt counted) and the process exits 0.
            A second signal exits at once. SIGHUP is ignored (restart to apply new settings).
            Under systemd (Type=notify) it sends READY=1 once running and WATCHDOG=1 every half
            of WatchdogSec. Every option can also be set by its KEK_* variable (shown below). Schedules in --schedule-dir (or KEK_SCHEDULE_DIR; none
            otherwise, never ./jobs by itself) are evaluated by every worker; each occurrence is enqueued once.
            Needs DATABASE_URL.
            """,
        options: WorkerOptions.self,
        run: { options in
            var configuration = WorkerConfiguration(databaseURL: try Database.requiredURL())
            if let id = options.workerID { configuration.workerID = id }
            configuration.concurrency = options.concurrency
            configuration.useLease(seconds: options.lease)
            configuration.pollInterval = options.pollInterval
            configuration.listen = !options.noListen
            configuration.scheduleInterval = options.scheduleInterval
            configuration.retention = options.retention
            configuration.retry = RetryPolicy(base: options.retryBase, maximum: 3600)
            configuration.housekeeping = [DEKCounts.housekeeping()]
            let shutdownTimeout = options.shutdownTimeout
            let format = options.logFormat
            if format == .json { Terminal.useJSONLines() }
            if !options.noSchedules {
                configuration.schedules = try ScheduleFolder.load(folder: options.scheduleDir)
                configuration.scheduler = JobScheduler(conditions: JobKinds.conditions)
            }
            let status = try options.statusListen.map {
                try StatusListen.configuration(listen: $0, option: "kek worker: --status-listen",
                                               requireToken: options.statusRequireToken, publicReads: options.statusPublicReads,
                                               allowHosts: options.statusAllowHost,
                                               schedules: configuration.schedules, actor: configuration.workerID)
            }

            // Refuse to start on a database without the jobs schema, with a clear hint.
            let check = try Database.connect()
            guard try JobQueue(connection: check).schemaInstalled() else {
                throw CommandFailure("the database has no jobs table; run 'kek migrate' first")
            }
            // A keyring with a recorded id and another key is refused before anything runs;
            // no keyring at all is fine: the key kinds stay unclaimed (logged once by the gate).
            if let warning = try KeyReadiness.startupRefusal(check) { Terminal.error("warning: \(warning)") }

            ShutdownSignal.install()
            let log = JobLogWriter(format: format)
            let handlers = JobKinds.handlers(actor: configuration.workerID)
            let worker = JobWorker(configuration: configuration, handlers: handlers, events: log)
            // Its own connections and threads: the status side never touches the job loops' connections.
            let statusServer = try status.map { configuration in
                var configuration = configuration
                configuration.processReadiness = { handlers.gateStatus }
                return try StatusListen.start(configuration)
            }
            defer { statusServer?.stop() }
            worker.start()
            let systemd = SystemdNotify()
            systemd.send("READY=1\nSTATUS=running \(configuration.concurrency) job loops")
            var nextWatchdog = Date()
            while !ShutdownSignal.requested {
                if let interval = systemd.watchdogInterval, Date() >= nextWatchdog {
                    systemd.send("WATCHDOG=1")
                    nextWatchdog = Date().addingTimeInterval(interval)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            systemd.send("STOPPING=1")
            log.record(JobEvent(event: "worker_stopping", workerID: configuration.workerID,
                                message: "signal received; finishing batches in hand (up to \(Int(shutdownTimeout))s)"))
            worker.requestStop()
            if worker.waitUntilStopped(timeout: shutdownTimeout) {
                log.record(JobEvent(event: "worker_stopped", workerID: configuration.workerID))
            } else {
                log.record(JobEvent(event: "worker_stopped", workerID: configuration.workerID,
                                    message: "shutdown timeout: jobs still in hand are taken over when their leases expire"))
                throw CommandFailure("shutdown timeout of \(Int(shutdownTimeout))s reached with jobs still in hand")
            }
        }
    )
}

/// `kek worker`'s options; each can also be set by its `KEK_*` variable (`--poll-interval`: `KEK_POLL_INTERVAL`).
struct WorkerOptions: CommandOptions {
    var concurrency = 1
    var lease: TimeInterval = 30
    var pollInterval: TimeInterval = 5
    var noListen = false
    var shutdownTimeout: TimeInterval = 30
    var workerID: String?
    var logFormat = JobLogWriter.Format.plain
    var scheduleDir: String?
    var noSchedules = false
    var scheduleInterval: TimeInterval = 60
    var retention: TimeInterval = 14 * 86_400
    var retryBase: TimeInterval = 15
    var statusListen: String?
    var statusRequireToken = false
    var statusPublicReads = false
    var statusAllowHost: String?

    static let fields: [OptionField<Self>] = [
        .value("concurrency", "N", "Job loops, each on its own thread and connection.", \.concurrency,
               OptionParser.int.checked("a whole number between 1 and 256") { (1...256).contains($0) }),
        .value("lease", "DURATION", "Lease per claim; an unrenewed job is taken over after it.", \.lease,
               OptionParser.duration.checked("a duration of at least 1s") { $0 >= 1 }),
        .value("poll-interval", "DURATION", "Claim again at least this often without a notification.", \.pollInterval, .duration),
        .flag("no-listen", "Poll every --poll-interval instead of waiting for notifications (PgBouncer transaction mode; also KEK_NO_LISTEN=1).",
              \.noListen),
        .value("shutdown-timeout", "DURATION", "Longest wait for loops to stop after a signal.", \.shutdownTimeout, .duration),
        .value("worker-id", "ID", "Name in leases, logs and the workers table (default host:pid).", \.workerID, .text),
        .value("log-format", "plain|json", "One line per job state change.", \.logFormat, .choice([.plain, .json])),
        .value("schedule-dir", "DIR", "Folder of schedule files (*.json) (default: $KEK_SCHEDULE_DIR; none when unset).", \.scheduleDir, .text),
        .flag("no-schedules", "Evaluate no schedules.", \.noSchedules),
        .value("schedule-interval", "DURATION", "How often schedules are evaluated.", \.scheduleInterval, .duration),
        .value("retention", "DURATION", "Delete finished jobs older than this.", \.retention, .duration),
        .value("retry-base", "DURATION", "First retry delay; doubles per attempt, with jitter, up to 1h.", \.retryBase, .duration),
        .value("status-listen", "HOST:PORT", "Also serve the status endpoints of 'kek serve' here (port 0: any free port).",
               \.statusListen, .text),
        .flag("status-require-token", "With --status-listen: every endpoint but /healthz needs KEK_STATUS_TOKEN.", \.statusRequireToken),
        .flag("status-public-reads", "With --status-listen on a non-loopback address: reads need no token.", \.statusPublicReads),
        .value("status-allow-host", "NAMES", "With --status-listen: extra Host: names answered (or KEK_STATUS_ALLOWED_HOSTS).",
               \.statusAllowHost, .text),
    ].withEnvironment(prefix: "KEK_")
}
