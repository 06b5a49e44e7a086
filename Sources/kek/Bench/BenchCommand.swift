import Foundation

extension Command {
    static let bench = Command(
        name: "bench",
        abstract: "Measure rewrap against the database's own ceilings on N DEKs (throwaway PostgreSQL unless DATABASE_URL).",
        discussion: """
            Prints rows/s for: (a) a batched UPDATE loop with the same batch size and no crypto, (b) one UPDATE
            of every row, (c) a rotation with 1 worker loop, (d) with 2, (e) verification; each rotation's ratio
            to (a) and (b); per-row cost at 100k rows and at N; and the peak resident memory.
            --peer also runs a Python rewrap the way a team without kek would write it (needs
            'pip install "psycopg[binary]" cryptography').
            """,
        options: [
            .value("rows", "N", "DEKs to seed.", default: "1000000"),
            .value("batch-size", "N", "Rows per batch, for the loop and the rewrap alike.", default: "2000"),
            .flag("peer", "Also run the Python peer on the same rows."),
            .flag("json", "Print JSON."),
        ],
        run: { arguments in
            let rows = try arguments.int("rows") ?? 1_000_000
            let batchSize = try arguments.int("batch-size") ?? 2000
            guard rows > 0, batchSize > 0 else { throw UsageError("kek bench: --rows and --batch-size must be positive") }
            let environment = try ScratchEnvironment.prepare(keep: false)
            defer { environment.finish(keep: false) }
            let lines = try RewrapBenchmark(url: environment.url, rows: rows, batchSize: batchSize, peer: arguments.flag("peer")).run()
            let report = BenchReport(lines: lines, peakResidentKilobytes: PeakMemory.residentKilobytes())
            if arguments.flag("json") { return try JSONOutput.print(report) }
            print(report.table)
        }
    )
}

/// The benchmark's table, ratios included.
struct BenchReport: Encodable {
    var lines: [BenchLine]
    var peakResidentKilobytes: Int

    var table: String {
        let loop = lines.first { $0.name.hasPrefix("(a)") }?.rowsPerSecond ?? 0
        let single = lines.first { $0.name.hasPrefix("(b)") }?.rowsPerSecond ?? 0
        func ratio(_ value: Double, _ base: Double) -> String { base > 0 ? String(format: "%.2f", value / base) : "-" }
        let rendered = TextTable.render(
            ["MEASUREMENT", "ROWS", "SECONDS", "ROWS/S", "µS/ROW", "VS (A)", "VS (B)"],
            lines.map { [$0.name, Formatting.count($0.rows), String(format: "%.2f", $0.seconds), Formatting.count(Int($0.rowsPerSecond)),
                         String(format: "%.1f", $0.microsecondsPerRow), ratio($0.rowsPerSecond, loop), ratio($0.rowsPerSecond, single)] })
        return rendered + "\npeak resident memory: \(Formatting.count(peakResidentKilobytes / 1024)) MiB"
    }
}

/// The process's peak resident set (VmHWM), for the constant-memory claim.
enum PeakMemory {
    static func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
