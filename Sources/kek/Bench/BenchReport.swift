import Foundation

/// `kek bench`'s report: the table, the ratios the rotation aims at, where the server's time
/// goes, and the application's latency.
struct BenchReport: Encodable {
    /// One aim of issue #19, as measured in this run.
    struct Aim: Encodable {
        var name: String
        var value: Double?
        var bound: Double
        var atMost: Bool
        enum CodingKeys: String, CodingKey { case name, value, bound, atMost = "at_most" }
        var met: Bool? { value.map { atMost ? $0 <= bound : $0 >= bound } }
    }

    var results: BenchResults
    var peakResidentKilobytes: Int
    /// 1, 5 and 15 minute load averages at the start and at the end of the run.
    var loadAverage: [String]
    var aims: [Aim] { Self.aims(results) }

    enum CodingKeys: String, CodingKey {
        case results, aims, peakResidentKilobytes = "peak_resident_kilobytes", loadAverage = "load_average"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(results, forKey: .results)
        try container.encode(peakResidentKilobytes, forKey: .peakResidentKilobytes)
        try container.encode(loadAverage, forKey: .loadAverage)
        try container.encode(aims, forKey: .aims)
    }

    static func aims(_ results: BenchResults) -> [Aim] {
        func line(_ role: BenchLine.Role) -> BenchLine? { results.lines.first { $0.role == role } }
        func rate(_ role: BenchLine.Role, over base: BenchLine.Role) -> Double? {
            guard let value = line(role)?.rowsPerSecond, let base = line(base)?.rowsPerSecond, base > 0 else { return nil }
            return value / base
        }
        func databaseTime(_ role: BenchLine.Role, over base: BenchLine.Role) -> Double? {
            guard let value = line(role)?.databaseMicrosecondsPerRow, let base = line(base)?.databaseMicrosecondsPerRow, base > 0 else { return nil }
            return value / base
        }
        let idle = results.latencies.first?.p99Milliseconds ?? 0
        func latency(_ index: Int) -> Double? {
            results.latencies.count > index && idle > 0 ? results.latencies[index].p99Milliseconds / idle : nil
        }
        return [
            Aim(name: "1 loop / kek's statements without crypto, all rows", value: rate(.rotation1, over: .sameStatements), bound: 0.95, atMost: false),
            Aim(name: "1 loop / kek's statements without crypto, first \(line(.small).map { Formatting.count($0.rows) } ?? "100,000") rows "
                + "(median runs of \(RewrapBenchmark.firstRowsRepeats) interleaved pairs)", value: rate(.small, over: .smallSameStatements),
                bound: 0.95, atMost: false),
            Aim(name: "database time per moved row, kek's statements / rewrite without moving (pg_stat_statements)",
                value: databaseTime(.sameStatements, over: .rewriteLoop), bound: 1.15, atMost: true),
            Aim(name: "database time per moved row, 1-loop rotation / rewrite without moving (pg_stat_statements)",
                value: databaseTime(.rotation1, over: .rewriteLoop), bound: 1.15, atMost: true),
            Aim(name: "2 loops / 1 loop", value: rate(.rotation2, over: .rotation1), bound: 1.4, atMost: false),
            Aim(name: "2 loops / fair Python peer", value: rate(.rotation2, over: .peer), bound: 1.6, atMost: false),
            Aim(name: "1 loop / fair Python peer", value: rate(.rotation1, over: .peer), bound: 1.2, atMost: false),
            Aim(name: "application insert p99, unthrottled rotation / idle", value: latency(1), bound: 3, atMost: true),
            Aim(name: "application insert p99, rotation at half rate / idle", value: latency(2), bound: 1.5, atMost: true),
        ]
    }

    var text: String {
        var sections = [table, "", "aims (ratios within this run):"]
        sections += aims.map { aim in
            let value = aim.value.map { String(format: "%.2f", $0) } ?? "not measured"
            let verdict = aim.met.map { $0 ? "met" : "NOT met" } ?? "-"
            return "  \(aim.name): \(value) (aim \(aim.atMost ? "≤" : "≥") \(aim.bound)) \(verdict)"
        }
        sections += firstRows
        sections += ["", "application insert-a-secret latency (\(Int(results.insertsPerSecond)) inserts/s on its own connection):"]
        sections += results.latencies.map {
            "  \($0.label): p50 \(Self.format($0.p50Milliseconds)) ms, p99 \(Self.format($0.p99Milliseconds)) ms, "
                + "max \(Self.format($0.maxMilliseconds)) ms over \(Formatting.count($0.inserts)) inserts, \($0.retries) retried; "
                + $0.activity.summary
        }
        if let explain = results.explain { sections += [""] + explain.summary }
        sections += breakdown
        sections += ["", "peak resident memory: \(Formatting.count(peakResidentKilobytes / 1024)) MiB; "
            + "load average (1, 5, 15 min) at start \(loadAverage.first ?? "-"), at end \(loadAverage.last ?? "-")"]
        return sections.joined(separator: "\n")
    }

    private var table: String {
        func base(_ role: BenchLine.Role) -> Double { results.lines.first { $0.role == role }?.rowsPerSecond ?? 0 }
        let bases = [base(.sameStatements), base(.rewriteLoop), base(.singleUpdate)]
        func ratio(_ value: Double, _ base: Double) -> String { base > 0 ? String(format: "%.2f", value / base) : "-" }
        return TextTable.render(
            ["MEASUREMENT", "ROWS", "SECONDS", "ROWS/S", "µS/ROW", "DB µS/ROW", "VS (A)", "VS (B)", "VS (C)", "LOAD"],
            results.lines.map { line in
                [line.name, Formatting.count(line.rows), String(format: "%.2f", line.seconds), Formatting.count(Int(line.rowsPerSecond)),
                 Self.format(line.microsecondsPerRow), line.databaseMicrosecondsPerRow.map { Self.format($0) } ?? "-"]
                    + bases.map { ratio(line.rowsPerSecond, $0) } + [String(format: "%.1f", line.loadAtStart)]
            })
    }

    /// Each interleaved pair of the first rows, and where each rotation's time went.
    private var firstRows: [String] {
        let rotations = results.lines.filter { $0.timeline != nil && [.rotation1, .rotation2].contains($0.role) }
        guard !results.firstRowsPairs.isEmpty || !rotations.isEmpty else { return [] }
        var lines = ["", "rotations by their job's timestamps (start: enqueue to the first part's claim; finish: the last part's end to the job's):"]
        lines += results.firstRowsPairs.enumerated().map { index, pair in
            "  first rows, pair \(index + 1): statements \(String(format: "%.2f", pair.statementsSeconds)) s, rotation "
                + "\(String(format: "%.2f", pair.rotationSeconds)) s (\(pair.rotation?.summary ?? "no timeline")): "
                + String(format: "%.2f", pair.ratio)
        }
        lines += rotations.compactMap { line in line.timeline.map { "  \(line.name): \($0.summary)" } }
        return lines
    }

    /// The costliest server statements of the limit, the rewrite, the 1-loop rotation and the peer, per moved row.
    private var breakdown: [String] {
        results.lines.filter { [.sameStatements, .rewriteLoop, .rotation1, .peer].contains($0.role) && !$0.statements.isEmpty }.flatMap { line in
            ["", "server time by statement, \(line.name) (pg_stat_statements, µs per row):"]
                + line.statements.map { cost in
                    "  \(Self.format(cost.milliseconds * 1000 / Double(max(line.rows, 1)))) µs  \(Formatting.count(cost.calls)) calls  \(cost.query)"
                }
        }
    }

    static func format(_ value: Double) -> String { String(format: value < 10 ? "%.2f" : "%.1f", value) }
}
