import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster for tests and the demo, created from the system's
/// `initdb`/`pg_ctl` in a temporary directory and reachable only through a Unix socket
/// in that directory, so it never collides with another server or opens a port.
///
/// When the process runs as root the cluster runs as the `postgres` user (the server
/// refuses to run as root). A watchdog process stops and removes the cluster when the
/// owning process dies, even by `SIGKILL` or a crashing test, so no server is left behind.
public final class ThrowawayPostgres: Sendable {
    /// A libpq connection string for the `postgres` database as the `postgres` superuser.
    public let connectionString: String
    /// The directory holding the data, the socket and the server log.
    public let directory: String
    let binaries: String
    let runAs: [String]
    /// Extra server settings (`name=value`) every start passes with `-c`.
    let settings: [String]

    /// Creates and starts a cluster. With `watchdog: false` the cluster outlives this
    /// process (the demo's `--keep`); call `stop()` or remove it by hand. `settings` are extra
    /// server settings (`name=value`, e.g. the benchmark's `shared_preload_libraries=pg_stat_statements`).
    public convenience init(watchdog: Bool = true, settings: [String] = []) throws {
        try self.init(watchdog: watchdog, settings: settings) { cluster in
            try Self.run(cluster.runAs + ["\(cluster.binaries)/initdb", "-D", "\(cluster.directory)/data", "-U", "postgres",
                                          "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        }
    }

    /// Makes a private directory, fills its `data` folder with `makeData`, starts the server.
    init(watchdog: Bool, settings: [String] = [], makeData: (ThrowawayPostgres) throws -> Void) throws {
        self.settings = settings
        binaries = try Self.findBinaries()
        runAs = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        directory = try Self.makePrivateDirectory(prefix: "kek-pg")
        connectionString = "host=\(directory) port=5432 user=postgres dbname=postgres"
        do {
            if !runAs.isEmpty { try Self.run(["/bin/chown", "postgres:postgres", directory]) }
            try makeData(self)
            try start()
            if watchdog { try startWatchdog() }
        } catch {
            removeDirectory()
            throw error
        }
    }

    /// Starts the server (again, after `stopImmediately()`), waiting until it accepts connections.
    public func start() throws {
        try Self.run(runAs + [
            "\(binaries)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-w", "-t", "60",
            "-o", "-k \(directory) -p 5432 -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                + "-c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB"
                + settings.map { " -c \($0)" }.joined(),
            "start",
        ])
    }

    /// Stops the server the way a crash or a power cut would (`pg_ctl -m immediate`): no
    /// checkpoint, every session cut. The data stays; `start()` recovers it.
    public func stopImmediately() throws {
        try Self.run(runAs + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
    }

    /// Creates a private temporary directory named `/tmp/<prefix>-XXXXXX`.
    static func makePrivateDirectory(prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ThrowawayPostgresError("could not create a temporary directory: errno \(errno)")
        }
        return String(cString: made)
    }

    /// Whether the server found by `findBinaries` ships the loadable module `name` (for example
    /// `pg_stat_statements`, from postgresql-contrib), so a caller can preload it only when present.
    public static func hasModule(_ name: String) -> Bool {
        guard let binaries = try? findBinaries() else { return false }
        // initdb may be a symbolic link (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb).
        let server = URL(fileURLWithPath: "\(binaries)/initdb").resolvingSymlinksInPath().deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: server.appendingPathComponent("../lib/\(name).so").standardized.path)
    }

    /// A connection string for another database of this cluster.
    public func connectionString(database: String) -> String {
        "host=\(directory) port=5432 user=postgres dbname=\(database)"
    }

    /// A shell command that stops the server and removes its directory, as the user who
    /// started it must run it (through `runuser -u postgres` when that was root): what the
    /// demo's `--keep` prints.
    public var stopCommand: String {
        let stop = (runAs + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "fast", "-w", "stop"]).joined(separator: " ")
        return "\(stop) && rm -rf \(directory)"
    }

    /// Stops the server and removes its directory. Safe to call more than once.
    public func stop() {
        guard FileManager.default.fileExists(atPath: "\(directory)/data") else { return }
        _ = try? Self.run(runAs + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "fast", "-w", "stop"])
        removeDirectory()
    }

    private func removeDirectory() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A detached shell that waits for this process to end, then stops and removes the cluster.
    private func startWatchdog() throws {
        let stop = (runAs + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
            .map(Self.shellQuoted).joined(separator: " ")
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done; "
            + "\(stop) >/dev/null 2>&1; rm -rf \(Self.shellQuoted(directory))"
        _ = try Subprocess.run(["/bin/sh", "-c", script], outputPath: "/dev/null", newSession: true, wait: false)
    }

    /// `initdb`'s folder: `KEK_PG_BIN`, then `PATH`, then the newest `/usr/lib/postgresql/*/bin`.
    static func findBinaries() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["KEK_PG_BIN"] { candidates.append(explicit) }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        for folder in candidates
        where FileManager.default.isExecutableFile(atPath: "\(folder)/initdb")
            && FileManager.default.isExecutableFile(atPath: "\(folder)/pg_ctl") {
            return folder
        }
        throw ThrowawayPostgresError(
            "no initdb/pg_ctl found in KEK_PG_BIN, PATH or /usr/lib/postgresql/*/bin; install the postgresql package "
                + "or set DATABASE_URL to a server of your own")
    }

    /// Runs a command to its end and returns its output; a non-zero exit is an error with that output.
    @discardableResult
    static func run(_ command: [String]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "kek-pg-cmd-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status = try Subprocess.run(command, outputPath: outputPath)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ThrowawayPostgresError("\(command.joined(separator: " ")) failed (exit \(status)): \(text)")
        }
        return text
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Why the throwaway cluster could not be set up, with the command's own output.
public struct ThrowawayPostgresError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
