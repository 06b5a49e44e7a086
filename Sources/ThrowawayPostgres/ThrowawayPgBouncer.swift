import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PgBouncer in front of a `ThrowawayPostgres`, for tests of kek behind a pooler.
///
/// It listens only on a Unix socket in its own temporary directory (`listen_addr` empty:
/// no TCP port at all, so parallel runs never collide), trusts every user named in a
/// generated userlist, and pools in the mode asked for. A watchdog stops it when the owning
/// process dies, as for the cluster.
public final class ThrowawayPgBouncer: Sendable {
    /// How server connections are shared between clients.
    public enum PoolMode: String, Sendable {
        case session, transaction
    }

    public let directory: String
    public let mode: PoolMode
    /// The socket's name suffix (`.s.PGSQL.<port>`); no TCP port is opened.
    public let port = 6432
    private let runAs: [String]

    /// Starts PgBouncer in front of `cluster`, passing every database name through, for the
    /// logins named in `users` (trusted, as the cluster trusts them).
    public init(inFrontOf cluster: ThrowawayPostgres, mode: PoolMode, poolSize: Int = 10, users: [String] = ["postgres"]) throws {
        self.mode = mode
        runAs = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        directory = try ThrowawayPostgres.makePrivateDirectory(prefix: "kek-pgb")
        let binary = try Self.findBinary()
        let config = """
            [databases]
            * = host=\(cluster.directory) port=5432
            [pgbouncer]
            listen_addr =
            listen_port = \(port)
            unix_socket_dir = \(directory)
            auth_type = trust
            auth_file = \(directory)/userlist.txt
            pool_mode = \(mode.rawValue)
            default_pool_size = \(poolSize)
            max_client_conn = 500
            logfile = \(directory)/pgbouncer.log
            pidfile = \(directory)/pgbouncer.pid
            server_login_retry = 1
            ignore_startup_parameters = extra_float_digits

            """
        do {
            try config.write(toFile: "\(directory)/pgbouncer.ini", atomically: true, encoding: .utf8)
            try users.map { "\"\($0)\" \"\"\n" }.joined()
                .write(toFile: "\(directory)/userlist.txt", atomically: true, encoding: .utf8)
            if !runAs.isEmpty { try ThrowawayPostgres.run(["/bin/chown", "-R", "postgres:postgres", directory]) }
            try ThrowawayPostgres.run(runAs + [binary, "-d", "\(directory)/pgbouncer.ini"])
            try waitForSocket()
            try startWatchdog()
        } catch {
            stop()
            throw error
        }
    }

    /// A connection string for `database` through the pooler.
    public func connectionString(database: String, user: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=\(user) dbname=\(database)"
    }

    /// Stops PgBouncer and removes its directory. Safe to call more than once.
    public func stop() {
        if let pid = processID { kill(pid, SIGTERM) }
        for _ in 0..<100 where processID.map({ kill($0, 0) == 0 }) ?? false { usleep(20_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var processID: pid_t? {
        (try? String(contentsOfFile: "\(directory)/pgbouncer.pid", encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func waitForSocket() throws {
        for _ in 0..<250 {
            if FileManager.default.fileExists(atPath: "\(directory)/.s.PGSQL.\(port)") { return }
            usleep(20_000)
        }
        let log = (try? String(contentsOfFile: "\(directory)/pgbouncer.log", encoding: .utf8)) ?? ""
        throw ThrowawayPostgresError("pgbouncer did not open its socket within 5s: \(log.suffix(2000))")
    }

    private func startWatchdog() throws {
        let pidFile = ThrowawayPostgres.shellQuoted("\(directory)/pgbouncer.pid")
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done; "
            + "kill $(cat \(pidFile)) 2>/dev/null; sleep 1; rm -rf \(ThrowawayPostgres.shellQuoted(directory))"
        _ = try Subprocess.run(["/bin/sh", "-c", script], outputPath: "/dev/null", newSession: true, wait: false)
    }

    /// `pgbouncer` on `PATH` or in `/usr/sbin` (the Debian package's place).
    static func findBinary() throws -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin"]
        for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/pgbouncer") {
            return "\(folder)/pgbouncer"
        }
        throw ThrowawayPostgresError("pgbouncer not found on PATH or in /usr/sbin; install the pgbouncer package (.ci/setup does)")
    }
}
