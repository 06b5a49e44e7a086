import Foundation
import KeyManagement
import KeyWrapping
import PostgresClient
import TestSupport
import XCTest

/// `RewrapStream`: a batch read in one step is written in the next, so whatever happens to its
/// rows in between must never be overwritten or waited for.
final class RewrapStreamTests: XCTestCase {
    private struct Setup {
        let f: KeyFixture
        let old: Int32
        let new: Int32
        let ids: [Int64]
        var stream: RewrapStream
    }

    /// Ten DEKs under `old`, a new active KEK, and a stream whose first step has read them all.
    private func readTen() throws -> Setup {
        let f = try KeyFixture()
        let old = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(10)
        let new = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        var stream = RewrapStream(RewrapStatements(from: try keks.cipher(old), to: try keks.cipher(new), limit: 100), after: 0)
        let first = try f.connection.transaction { try stream.step(f.connection) }
        XCTAssertEqual(first.rewrapped, 0, "the first step only reads")
        XCTAssertNil(first.writtenThrough)
        XCTAssertFalse(first.finished)
        let ids = try f.connection.query("SELECT id FROM data_keys ORDER BY id").map { try $0.decode(0, as: Int64.self) }
        return Setup(f: f, old: old, new: new, ids: ids, stream: stream)
    }

    private func kek(of id: Int64, _ f: KeyFixture) throws -> Int32 {
        try f.connection.query("SELECT kek_id FROM data_keys WHERE id = $1", [id])[0].decode(0)
    }

    func testARowChangedBetweenReadAndWriteIsLeftAlone() throws {
        var s = try readTen()
        let changed = s.ids[3]
        // Another writer changes the row after the stream read it (here: as the owner, new bytes).
        let other = try PostgresConnection(s.f.url)
        try other.execute("UPDATE data_keys SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1) WHERE id = $1",
                          [changed])
        let bytes: [UInt8] = try other.query("SELECT wrapped_key FROM data_keys WHERE id = $1", [changed])[0].decode(0)
        let step = try s.f.connection.transaction { try s.stream.step(s.f.connection) }
        XCTAssertEqual(step.rewrapped, 9)
        XCTAssertEqual(step.writtenThrough, s.ids.last)
        XCTAssertTrue(step.finished)
        XCTAssertEqual(try kek(of: changed, s.f), s.old, "left for the sweep")
        XCTAssertEqual(try s.f.connection.query("SELECT wrapped_key FROM data_keys WHERE id = $1", [changed])[0].decode(0, as: [UInt8].self),
                       bytes, "the writer's bytes were not overwritten")
    }

    func testARowAnotherTransactionHoldsIsSkippedNotWaitedFor() throws {
        var s = try readTen()
        let held = s.ids[5], shared = s.ids[6]
        let holder = try PostgresConnection(s.f.url)
        try holder.execute("BEGIN")
        try holder.query("SELECT 1 FROM data_keys WHERE id = $1 FOR UPDATE", [held])
        // A foreign key's lock (an application referencing the DEK) does not stop the move.
        try holder.query("SELECT 1 FROM data_keys WHERE id = $1 FOR KEY SHARE", [shared])
        s.f.connection.transactionSettings["lock_timeout"] = "30s"
        let step = try s.f.connection.transaction { try s.stream.step(s.f.connection) }
        try holder.execute("ROLLBACK")
        XCTAssertEqual(step.rewrapped, 9)
        XCTAssertEqual(try kek(of: held, s.f), s.old, "skipped, left for the sweep")
        XCTAssertEqual(try kek(of: shared, s.f), s.new)
        // The sweep's one-transaction batch takes it once it is free.
        let keks = KEKCiphers(connection: s.f.connection, rootKeys: s.f.rootKeys)
        let swept = try s.f.connection.transaction {
            try Rewrap.batch(s.f.connection, from: try keks.cipher(s.old), to: try keks.cipher(s.new), after: 0, limit: 100)
        }
        XCTAssertEqual(swept.rewrapped, 1)
        XCTAssertEqual(try s.f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [s.new]), 10)
    }

    func testARolledBackStepIsReadAgainFromTheCheckpoint() throws {
        var s = try readTen()
        struct Abandon: Error {}
        XCTAssertThrowsError(try s.f.connection.transaction {
            _ = try s.stream.step(s.f.connection)
            throw Abandon()
        })
        XCTAssertEqual(try s.f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [s.old]), 10, "nothing moved")
        // A resumed pass starts from the last committed checkpoint (here: before every row).
        let keks = KEKCiphers(connection: s.f.connection, rootKeys: s.f.rootKeys)
        var resumed = RewrapStream(RewrapStatements(from: try keks.cipher(s.old), to: try keks.cipher(s.new), limit: 4), after: 0)
        var moved = 0, steps = 0
        while true {
            let step = try s.f.connection.transaction { try resumed.step(s.f.connection) }
            moved += step.rewrapped
            steps += 1
            if step.finished { break }
        }
        XCTAssertEqual(moved, 10)
        XCTAssertEqual(steps, 4, "batches of 4, 4, 2: one step reads the first, each later one writes one")
        XCTAssertEqual(try s.f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1", [s.new]), 10)
        XCTAssertEqual(try s.f.count("SELECT kek_wraps($1)", [s.new]), 10)
    }
}

/// The move's plan with statistics that lie about the old KEK (what a store looks like right
/// after a bulk import, or after the previous rotation moved every DEK under it): never a walk of
/// the old KEK's index range, never a sub-select per row. (On a table this small a sequential
/// scan is the cheap plan; at 1M DEKs both statements probe the primary key, README.)
final class RewrapMovePlanTests: XCTestCase {
    func testTheMoveStartsFromTheBatchIdsWhenStatisticsSayTheOldKEKIsEmpty() throws {
        let f = try KeyFixture()
        let first = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(3_000)
        try f.connection.execute("ALTER TABLE data_keys SET (autovacuum_enabled = false)")
        try f.connection.executeScript("ANALYZE data_keys")
        // Every DEK moves to `second` after the statistics were taken: they say `second` has none.
        let second = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        let moved = try f.connection.transaction {
            try Rewrap.batch(f.connection, from: try keks.cipher(first), to: try keks.cipher(second), after: 0, limit: 3_000)
        }
        XCTAssertEqual(moved.rewrapped, 3_000)
        let third = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        let batch = try f.connection.query("SELECT id, wrapped_key FROM data_keys WHERE kek_id = $1 ORDER BY id LIMIT 500", [second])
        let ids: [Int64] = try batch.map { try $0.decode(0) }
        let bytes: [[UInt8]] = try batch.map { try $0.decode(1) }
        let plan: String = try f.connection.transaction {
            let text = try f.connection.query("EXPLAIN (FORMAT JSON) " + Rewrap.moveBatchSQL,
                                              [third, PostgresArray(ids), PostgresArray(bytes), PostgresArray(bytes), second]
                                                  + Rewrap.idBounds(ids))
            return try text[0].decode(0)
        }
        let lockPlan: String = try f.connection.transaction {
            try f.connection.query("EXPLAIN (FORMAT JSON) " + Rewrap.lockBatchSQL, [PostgresArray(ids), second])[0].decode(0)
        }
        for text in [plan, lockPlan] {
            XCTAssertFalse(text.contains("kek_id_id"), "no walk of the old KEK's index range: \(text)")
            XCTAssertFalse(text.contains("SubPlan") || text.contains("CTE"), "no sub-select re-run per row: \(text)")
        }
    }

    /// A batch late in the table reads only its own rows: the batch's id range bounds the move's
    /// primary-key scan. Without it, the planner's merge join on a store of up to a few hundred
    /// thousand DEKs scanned `data_keys_pkey` from the lowest id and filtered out every row moved
    /// before (at 100k DEKs a batch cost 10 ms at the start and 36 ms by the 45th).
    func testALateBatchsMoveReadsNoRowMovedBeforeIt() throws {
        let f = try KeyFixture()
        let first = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        var keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        try SyntheticSecrets.seedDataKeys(f.connection, keks: keks, count: 20_000)
        let second = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        keks = KEKCiphers(connection: f.connection, rootKeys: f.rootKeys)
        _ = try f.connection.transaction {
            try Rewrap.batch(f.connection, from: try keks.cipher(first), to: try keks.cipher(second), after: 0, limit: 18_000)
        }
        try f.connection.executeScript("VACUUM ANALYZE data_keys")
        let batch = try f.connection.query("SELECT id, wrapped_key FROM data_keys WHERE kek_id = $1 ORDER BY id LIMIT 2000", [first])
        let ids: [Int64] = try batch.map { try $0.decode(0) }
        let bytes: [[UInt8]] = try batch.map { try $0.decode(1) }
        XCTAssertEqual(ids.count, 2_000)
        try f.connection.execute("BEGIN")
        // Index plans only: the question is whether the primary-key scan is bounded, and a
        // sequential scan (which the range would filter) is not what a large store gets.
        try f.connection.execute("SET LOCAL enable_seqscan = off")
        let plan: String = try f.connection.query("EXPLAIN (ANALYZE, FORMAT JSON) " + Rewrap.moveBatchSQL,
                                                  [second, PostgresArray(ids), PostgresArray(bytes), PostgresArray(bytes), first]
                                                      + Rewrap.idBounds(ids))[0].decode(0)
        try f.connection.execute("ROLLBACK")
        let removed = try Self.rowsRemovedByFilter(onRelation: "data_keys", plan)
        XCTAssertTrue(plan.contains("\"Actual Rows\": 2000") || plan.contains("\"Actual Rows\":2000"), plan)
        XCTAssertLessThanOrEqual(removed, 0, "the move's scan of data_keys filtered out rows moved before: \(plan)")
    }

    /// The sum of "Rows Removed by Filter" over the plan's scans of `relation` (EXPLAIN FORMAT JSON).
    private static func rowsRemovedByFilter(onRelation relation: String, _ json: String) throws -> Int {
        func visit(_ node: [String: Any]) -> Int {
            let own = node["Relation Name"] as? String == relation ? (node["Rows Removed by Filter"] as? Int ?? 0) : 0
            return own + ((node["Plans"] as? [[String: Any]]) ?? []).map(visit).reduce(0, +)
        }
        let root = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])?.first)
        return visit(try XCTUnwrap(root["Plan"] as? [String: Any]))
    }
}
