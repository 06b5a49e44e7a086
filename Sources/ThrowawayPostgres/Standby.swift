import Foundation

extension ThrowawayPostgres {
    /// A streaming standby of this cluster in a directory of its own: `pg_basebackup -R`
    /// (which writes `standby.signal` and `primary_conninfo`), then started. It replays
    /// the primary until `promote()`; with the primary it forms a pair a multi-host
    /// connection string (`host=<primary dir>,<standby dir> target_session_attrs=read-write`)
    /// can fail over across.
    public func makeStandby(watchdog: Bool = true) throws -> ThrowawayPostgres {
        try ThrowawayPostgres(watchdog: watchdog) { standby in
            try Self.run(standby.runAs + [try Self.findTool("pg_basebackup", besides: standby.binaries), "-h", directory, "-p", "5432", "-U", "postgres",
                                          "-D", "\(standby.directory)/data", "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        }
    }

    /// `name` beside `initdb`, or in the newest `/usr/lib/postgresql/*/bin` (a `PATH` with
    /// wrappers for `initdb` and `pg_ctl` only still finds the package's other programs).
    static func findTool(_ name: String, besides folder: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let folders = [folder] + versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        guard let found = folders.map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ThrowawayPostgresError("\(name) not found beside \(folder)/initdb or in /usr/lib/postgresql/*/bin")
        }
        return found
    }

    /// Turns a standby into a primary that accepts writes, waiting until it does.
    public func promote() throws {
        try Self.run(runAs + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-w", "-t", "60", "promote"])
    }

    /// A connection string trying `clusters` in order and settling on the one that accepts
    /// writes: what workers use to follow a failover.
    public static func multiHostConnectionString(_ clusters: [ThrowawayPostgres], database: String) -> String {
        "host=\(clusters.map(\.directory).joined(separator: ",")) port=5432 user=postgres dbname=\(database) "
            + "target_session_attrs=read-write connect_timeout=2"
    }
}
