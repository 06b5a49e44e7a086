import Foundation
import ThrowawayPostgres

extension Command {
    static let bench = Command(
        name: "bench",
        abstract: "Measure the rotation against the database's own limits on N DEKs (throwaway PostgreSQL unless DATABASE_URL).",
        discussion: """
            On the same rows, each measurement from the same state (VACUUM FULL between): (a) kek's rotation
            statements without crypto, the limit a rotation is held against; (b) a batched rewrite that leaves
            kek_id alone; (c) one UPDATE of every row; (d), (e) rotations through the job queue with 1 and 2
            worker loops; with --peer, (f) a fair Python peer running kek's very statements with real
            rewrapping and (g) without crypto (needs '\(PeerRewrap.packages)'); an application's
            insert-a-secret latency idle, during an unthrottled rotation and one at half its rate; and
            verification. Prints the ratios the rotation aims at, the server time per row
            (pg_stat_statements, preloaded when postgresql-contrib is installed), EXPLAIN (ANALYZE, BUFFERS)
            of one batch UPDATE, and the peak resident memory. The first rows (--first) are measured on their own,
            in three interleaved pairs of (a) and a 1-loop rotation, before the rest are seeded.
            """,
        options: [
            .value("rows", "N", "DEKs to seed.", default: "1000000"),
            .value("first", "N", "Rows measured on their own first, in interleaved pairs (when fewer than --rows).", default: "100000"),
            .value("batch-size", "N", "Rows per batch, for kek, the baselines and the peer alike.", default: "2000"),
            .flag("peer", "Also run the fair Python peer on the same rows."),
            .value("idle", "DURATION", "How long the application writes with no rotation, before each rotation, for its idle latency.",
                   default: "10s"),
            .flag("json", "Print JSON."),
        ],
        run: { arguments in
            let rows = try arguments.int("rows") ?? 1_000_000
            let batchSize = try arguments.int("batch-size") ?? 2000
            let idleSeconds = try arguments.duration("idle") ?? 10
            let firstRows = try arguments.int("first") ?? 100_000
            guard rows > 0, firstRows > 0, batchSize > 0, idleSeconds > 0 else {
                throw UsageError("kek bench: --rows, --first, --batch-size and --idle must be positive")
            }
            let peer = arguments.flag("peer")
            if peer, !PeerRewrap.packagesInstalled() {
                throw CommandFailure("--peer needs python3 with psycopg 3.2+ and cryptography: \(PeerRewrap.packages)")
            }
            let settings = ThrowawayPostgres.hasModule("pg_stat_statements")
                ? ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track_utility=off"] : []
            let environment = try ScratchEnvironment.prepare(keep: false, serverSettings: settings)
            defer { environment.finish(keep: false) }
            let loadAtStart = LoadAverage.read()
            let results = try RewrapBenchmark(url: environment.url, rows: rows, firstRows: firstRows, batchSize: batchSize, peer: peer,
                                            idleSeconds: idleSeconds).run()
            let report = BenchReport(results: results, peakResidentKilobytes: PeakMemory.residentKilobytes(),
                                     loadAverage: [loadAtStart, LoadAverage.read()])
            if arguments.flag("json") { return try Output.json(report) }
            print(report.text)
        }
    )
}

/// The process's peak resident set (VmHWM), for the constant-memory claim.
enum PeakMemory {
    static func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

/// The machine's load when the run ended (`/proc/loadavg`), printed so shared-machine figures say so.
enum LoadAverage {
    static func read() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func oneMinute() -> Double { Double(read().split(separator: " ").first ?? "") ?? 0 }
}
