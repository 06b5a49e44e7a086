import Foundation
import KeyManagement
import PostgresClient

/// Where the server's time for one batch UPDATE goes: `EXPLAIN (ANALYZE, BUFFERS)` of kek's
/// move statement (kek_id changes) and of the in-place rewrite (kek_id stays), on the same
/// rows, interleaved move/rewrite several times, each in a transaction that is rolled back and
/// on a fresh session (the statement trigger's cost was seen to depend on what the session ran
/// before). Medians are reported, so one stall on the shared machine does not decide the figure.
/// Per-node timing inflates absolute figures; pg_stat_statements gives the uninstrumented cost.
struct BatchExplain: Encodable {
    /// One statement's median figures over the repeats.
    struct Figures: Encodable {
        var executionMilliseconds: Double
        var planningMilliseconds: Double
        /// Trigger name to its time in ms (the foreign-key check is `RI_ConstraintTrigger_c_*`).
        var triggers: [String: Double]
        var sharedHitBlocks: Int
        var sharedDirtiedBlocks: Int

        enum CodingKeys: String, CodingKey {
            case triggers, executionMilliseconds = "execution_milliseconds", planningMilliseconds = "planning_milliseconds"
            case sharedHitBlocks = "shared_hit_blocks", sharedDirtiedBlocks = "shared_dirtied_blocks"
        }
    }

    var rows: Int
    var move: Figures
    var rewrite: Figures

    static let rewriteSQL = """
        UPDATE data_keys d SET wrapped_key = u.k FROM unnest($1::int8[], $2::bytea[]) AS u(id, k)
        WHERE d.id = u.id AND d.wrapped_key = u.k
        """

    /// Samples a batch of `batchSize` DEKs of KEK `old` from the middle of the table and
    /// explains moving it to `new` (which must be active) and rewriting it in place.
    static func measure(_ connection: PostgresConnection, url: String, old: Int32, new: Int32, batchSize: Int,
                        repeats: Int = 5) throws -> BatchExplain {
        let middle: Int64 = try connection.query(
            "SELECT coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY id), 0) FROM data_keys WHERE kek_id = $1", [old])[0].decode(0)
        let batch = try connection.query(Rewrap.readBatchSQL, [old, middle, Int64.max, batchSize])
        let ids: [Int64] = try batch.map { try $0.decode(0) }
        let keys: [[UInt8]] = try batch.map { try $0.decode(1) }
        var moves: [Figures] = []
        var rewrites: [Figures] = []
        for _ in 0..<repeats {
            moves.append(try explain(try PostgresConnection(url), Rewrap.moveBatchSQL,
                                     [new, PostgresArray(ids), PostgresArray(keys), PostgresArray(keys), old]))
            rewrites.append(try explain(try PostgresConnection(url), rewriteSQL, [PostgresArray(ids), PostgresArray(keys)]))
        }
        return BatchExplain(rows: ids.count, move: median(moves), rewrite: median(rewrites))
    }

    private static func explain(_ connection: PostgresConnection, _ sql: String, _ parameters: [any PostgresEncodable]) throws -> Figures {
        try connection.executeScript("BEGIN")
        defer { _ = try? connection.executeScript("ROLLBACK") }
        let text: String = try connection.query("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, parameters)[0].decode(0)
        guard let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], let top = parsed.first,
              let plan = top["Plan"] as? [String: Any] else {
            throw CommandFailure("EXPLAIN returned a plan this benchmark cannot read")
        }
        var triggers: [String: Double] = [:]
        for trigger in top["Triggers"] as? [[String: Any]] ?? [] {
            if let name = trigger["Trigger Name"] as? String { triggers[name, default: 0] += trigger["Time"] as? Double ?? 0 }
        }
        return Figures(executionMilliseconds: top["Execution Time"] as? Double ?? 0,
                       planningMilliseconds: top["Planning Time"] as? Double ?? 0, triggers: triggers,
                       sharedHitBlocks: plan["Shared Hit Blocks"] as? Int ?? 0,
                       sharedDirtiedBlocks: plan["Shared Dirtied Blocks"] as? Int ?? 0)
    }

    private static func median(_ samples: [Figures]) -> Figures {
        func middle<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        let names = Set(samples.flatMap { $0.triggers.keys })
        return Figures(executionMilliseconds: middle(samples.map(\.executionMilliseconds)),
                       planningMilliseconds: middle(samples.map(\.planningMilliseconds)),
                       triggers: Dictionary(uniqueKeysWithValues: names.map { name in (name, middle(samples.map { $0.triggers[name] ?? 0 })) }),
                       sharedHitBlocks: middle(samples.map(\.sharedHitBlocks)),
                       sharedDirtiedBlocks: middle(samples.map(\.sharedDirtiedBlocks)))
    }

    /// Lines for the text report.
    var summary: [String] {
        func describe(_ label: String, _ figures: Figures) -> String {
            let triggers = figures.triggers.sorted { $0.key < $1.key }
                .map { "\(Self.friendly($0.key)) \(String(format: "%.1f", $0.value)) ms" }.joined(separator: ", ")
            func ms(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            return "  \(label): \(ms(figures.executionMilliseconds)) ms execution "
                + "(\(ms(figures.executionMilliseconds * 1000 / Double(max(rows, 1)), 2)) µs/row), planning \(ms(figures.planningMilliseconds, 2)) ms; "
                + "triggers: \(triggers.isEmpty ? "none" : triggers); buffers hit \(figures.sharedHitBlocks), dirtied \(figures.sharedDirtiedBlocks)"
        }
        let ratio = rewrite.executionMilliseconds > 0 ? move.executionMilliseconds / rewrite.executionMilliseconds : 0
        return ["EXPLAIN (ANALYZE, BUFFERS) of one \(Formatting.count(rows))-row batch UPDATE, median of interleaved repeats:",
                describe("moves kek_id (kek's statement)", move), describe("rewrites wrapped_key in place", rewrite),
                String(format: "  moving costs %.2f× the in-place rewrite on the server", ratio)]
    }

    static func friendly(_ trigger: String) -> String {
        trigger.hasPrefix("RI_ConstraintTrigger") ? "foreign-key check (\(trigger))" : trigger
    }
}
