import Foundation
import JobQueue
import KeyManagement
import StatusAPI

extension Command {
    static let worker = Command(
        name: "worker",
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
        options: [
            .value("concurrency", "N", "Job loops, each on its own thread and connection.", default: "1"),
            .value("lease", "DURATION", "Lease per claim; an unrenewed job is taken over after it.", default: "30s"),
            .value("poll-interval", "DURATION", "Claim again at least this often without a notification.", default: "5s"),
            .flag("no-listen", "Poll every --poll-interval instead of waiting for notifications (PgBouncer transaction mode; also KEK_NO_LISTEN=1)."),
            .value("shutdown-timeout", "DURATION", "Longest wait for loops to stop after a signal.", default: "30s"),
            .value("worker-id", "ID", "Name in leases, logs and the workers table (default host:pid)."),
            .value("log-format", "plain|json", "One line per job state change.", default: "plain"),
            .value("schedule-dir", "DIR", "Folder of schedule files (*.json) (default: $KEK_SCHEDULE_DIR; none when unset)."),
            .flag("no-schedules", "Evaluate no schedules."),
            .value("schedule-interval", "DURATION", "How often schedules are evaluated.", default: "60s"),
            .value("retention", "DURATION", "Delete finished jobs older than this.", default: "14d"),
            .value("retry-base", "DURATION", "First retry delay; doubles per attempt, with jitter, up to 1h.", default: "15s"),
            .value("status-listen", "HOST:PORT", "Also serve the status endpoints of 'kek serve' here (port 0: any free port)."),
            .flag("status-require-token", "With --status-listen: every endpoint but /healthz needs KEK_STATUS_TOKEN."),
            .flag("status-public-reads", "With --status-listen on a non-loopback address: reads need no token."),
            .value("status-allow-host", "NAMES", "With --status-listen: extra Host: names answered (or KEK_STATUS_ALLOWED_HOSTS)."),
        ].withEnvironment(prefix: "KEK_"),
        run: { arguments in
            var configuration = WorkerConfiguration(databaseURL: try Database.requiredURL())
            if let id = arguments.string("worker-id") { configuration.workerID = id }
            configuration.concurrency = try arguments.int("concurrency") ?? 1
            guard (1...256).contains(configuration.concurrency) else {
                throw UsageError("kek worker: --concurrency must be between 1 and 256")
            }
            configuration.leaseSeconds = try arguments.duration("lease") ?? 30
            guard configuration.leaseSeconds >= 1 else { throw UsageError("kek worker: --lease must be at least 1s") }
            // A worker frozen inside a batch loses its session (and row locks) after two leases.
            configuration.limits.idleInTransactionTimeout = max(2 * configuration.leaseSeconds, 10)
            configuration.pollInterval = try arguments.duration("poll-interval") ?? 5
            configuration.listen = !(arguments.flag("no-listen") || ["1", "true", "yes"].contains(
                ProcessInfo.processInfo.environment["KEK_NO_LISTEN"]?.lowercased() ?? ""))
            configuration.heartbeatInterval = min(10, max(1, configuration.leaseSeconds / 3))
            configuration.scheduleInterval = try arguments.duration("schedule-interval") ?? 60
            configuration.retention = try arguments.duration("retention")
            configuration.retry = RetryPolicy(base: try arguments.duration("retry-base") ?? 15, maximum: 3600)
            let shutdownTimeout = try arguments.duration("shutdown-timeout") ?? 30
            guard let format = JobLogWriter.Format(rawValue: arguments.string("log-format") ?? "plain") else {
                throw UsageError("kek worker: --log-format must be plain or json")
            }
            if format == .json { Terminal.useJSONLines() }
            if !arguments.flag("no-schedules") {
                configuration.schedules = try ScheduleFolder.load(arguments)
                configuration.scheduler = JobScheduler(conditions: JobKinds.conditions)
            }
            let status = try arguments.string("status-listen").map {
                try StatusListen.configuration(listen: $0, option: "kek worker: --status-listen",
                                               requireToken: arguments.flag("status-require-token"),
                                               publicReads: arguments.flag("status-public-reads"),
                                               allowHosts: arguments.string("status-allow-host"),
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
