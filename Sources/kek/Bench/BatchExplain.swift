import Foundation
import KeyManagement
import PostgresClient

/// Where the server's time for one batch UPDATE goes: `EXPLAIN (ANALYZE, BUFFERS)` of kek's
/// move statement (kek_id changes) and of the in-place rewrite (kek_id stays), interleaved
/// move/rewrite several times, each in a transaction that is rolled back and on a fresh session
/// (the statement trigger's cost was seen to depend on what the session ran before). Medians are
/// reported, so one stall on the shared machine does not decide the figure.
///
/// Each repeat of each statement runs on its own range of rows nobody has touched, with the
/// statistics fresh, the state in which the measured statement meets its rows: the table is
/// analyzed first (right after seeding, the old KEK may be missing from the statistics, and the
/// planner then hashes every one of its DEKs for one batch: 668 ms instead of ~20 at 1M DEKs), and
/// no repeat reads the dead versions an earlier rolled-back repeat left. Per-node timing still
/// inflates absolute figures; pg_stat_statements gives the uninstrumented cost.
struct BatchExplain: Encodable {
    /// One statement's median figures over the repeats.
    struct Figures: Encodable {
        var executionMilliseconds: Double
        var planningMilliseconds: Double
        /// Trigger name to its time in ms (the foreign-key check is `RI_ConstraintTrigger_c_*`).
        var triggers: [String: Double]
        var sharedHitBlocks: Int
        var sharedDirtiedBlocks: Int
        /// The plan's shape (node types, indexes), each distinct shape the repeats used.
        var plans: [String]

        enum CodingKeys: String, CodingKey {
            case triggers, plans, executionMilliseconds = "execution_milliseconds", planningMilliseconds = "planning_milliseconds"
            case sharedHitBlocks = "shared_hit_blocks", sharedDirtiedBlocks = "shared_dirtied_blocks"
        }
    }

    var rows: Int
    /// Distinct row ranges the repeats ran on (fewer than two per repeat only on a store too
    /// small to hold them, such as the end-to-end test's).
    var ranges: Int
    var move: Figures
    var rewrite: Figures

    static let rewriteSQL = """
        UPDATE data_keys d SET wrapped_key = u.k FROM unnest($1::int8[], $2::bytea[]) AS u(id, k)
        WHERE d.id = u.id AND d.wrapped_key = u.k AND d.id BETWEEN $3 AND $4
        """

    /// Explains moving `repeats` batches of `batchSize` DEKs of KEK `old` from the middle of the
    /// table to `new` (which must be active) and rewriting `repeats` other batches in place.
    static func measure(_ connection: PostgresConnection, url: String, old: Int32, new: Int32, batchSize: Int,
                        repeats: Int = 5) throws -> BatchExplain {
        try connection.executeScript("ANALYZE data_keys")
        let batches = try freshBatches(connection, kek: old, size: batchSize, count: 2 * repeats)
        var moves: [Figures] = []
        var rewrites: [Figures] = []
        for round in 0..<repeats {
            let move = batches[(2 * round) % batches.count]
            let rewrite = batches[(2 * round + 1) % batches.count]
            moves.append(try explain(try PostgresConnection(url), Rewrap.moveBatchSQL,
                                     [new, PostgresArray(move.ids), PostgresArray(move.keys), PostgresArray(move.keys), old]
                                         + Rewrap.idBounds(move.ids)))
            rewrites.append(try explain(try PostgresConnection(url), rewriteSQL,
                                        [PostgresArray(rewrite.ids), PostgresArray(rewrite.keys)] + Rewrap.idBounds(rewrite.ids)))
        }
        return BatchExplain(rows: batches[0].ids.count, ranges: batches.count, move: median(moves), rewrite: median(rewrites))
    }

    /// One batch's rows as read: ids and their wrapped keys.
    private struct Batch {
        var ids: [Int64]
        var keys: [[UInt8]]
    }

    /// Up to `count` consecutive batches of KEK `kek`'s DEKs in id order, centred on the middle of its range.
    private static func freshBatches(_ connection: PostgresConnection, kek: Int32, size: Int,
                                     count: Int) throws -> [Batch] {
        let total: Int = try connection.query("SELECT count(*) FROM data_keys WHERE kek_id = $1", [kek])[0].decode(0)
        let rows = try connection.query("SELECT id, wrapped_key FROM data_keys WHERE kek_id = $1 ORDER BY id OFFSET $2 LIMIT $3",
                                        [kek, max(0, (total - size * count) / 2), size * count])
        let ids: [Int64] = try rows.map { try $0.decode(0) }
        let keys: [[UInt8]] = try rows.map { try $0.decode(1) }
        let batches = stride(from: 0, to: ids.count, by: size).map { start in
            let end = min(start + size, ids.count)
            return Batch(ids: Array(ids[start..<end]), keys: Array(keys[start..<end]))
        }
        // A last partial batch only where it is the only one, so every repeat explains the same number of rows.
        let whole = batches.filter { $0.ids.count == size }
        if !whole.isEmpty { return whole }
        guard let only = batches.first else { throw CommandFailure("EXPLAIN needs DEKs under KEK \(kek); there are none") }
        return [only]
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
                       sharedDirtiedBlocks: plan["Shared Dirtied Blocks"] as? Int ?? 0, plans: [shape(plan)])
    }

    /// "Update(Nested Loop(Function Scan, Index Scan data_keys_pkey))": enough to see a plan change.
    static func shape(_ node: [String: Any]) -> String {
        let name = [node["Node Type"] as? String ?? "?", node["Index Name"] as? String].compactMap { $0 }.joined(separator: " ")
        let children = (node["Plans"] as? [[String: Any]] ?? []).map(shape)
        return children.isEmpty ? name : "\(name)(\(children.joined(separator: ", ")))"
    }

    private static func median(_ samples: [Figures]) -> Figures {
        func middle<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        let names = Set(samples.flatMap { $0.triggers.keys })
        return Figures(executionMilliseconds: middle(samples.map(\.executionMilliseconds)),
                       planningMilliseconds: middle(samples.map(\.planningMilliseconds)),
                       triggers: Dictionary(uniqueKeysWithValues: names.map { name in (name, middle(samples.map { $0.triggers[name] ?? 0 })) }),
                       sharedHitBlocks: middle(samples.map(\.sharedHitBlocks)),
                       sharedDirtiedBlocks: middle(samples.map(\.sharedDirtiedBlocks)),
                       plans: samples.flatMap(\.plans).reduce(into: []) { if !$0.contains($1) { $0.append($1) } })
    }

    /// Lines for the text report.
    var summary: [String] {
        func describe(_ label: String, _ figures: Figures) -> String {
            let triggers = figures.triggers.sorted { $0.key < $1.key }
                .map { "\(Self.friendly($0.key)) \(String(format: "%.1f", $0.value)) ms" }.joined(separator: ", ")
            func ms(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            return "  \(label): \(ms(figures.executionMilliseconds)) ms execution "
                + "(\(ms(figures.executionMilliseconds * 1000 / Double(max(rows, 1)), 2)) µs/row), planning \(ms(figures.planningMilliseconds, 2)) ms; "
                + "triggers: \(triggers.isEmpty ? "none" : triggers); buffers hit \(figures.sharedHitBlocks), dirtied \(figures.sharedDirtiedBlocks); "
                + "plan \(figures.plans.joined(separator: " or "))"
        }
        let ratio = rewrite.executionMilliseconds > 0 ? move.executionMilliseconds / rewrite.executionMilliseconds : 0
        return ["EXPLAIN (ANALYZE, BUFFERS) of one \(Formatting.count(rows))-row batch UPDATE, median of interleaved repeats "
                + "on \(ranges) fresh row ranges, statistics fresh:",
                describe("moves kek_id (kek's statement)", move), describe("rewrites wrapped_key in place", rewrite),
                String(format: "  moving costs %.2f× the in-place rewrite on the server", ratio)]
    }

    static func friendly(_ trigger: String) -> String {
        trigger.hasPrefix("RI_ConstraintTrigger") ? "foreign-key check (\(trigger))" : trigger
    }
}
