import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// The split of a rotation's DEKs into parts (one ordered scan): every DEK in exactly one part,
/// at most the parts asked for, of about the same size.
final class RotationPreparationTests: XCTestCase {
    func testPartsCoverEveryDEKOnceInAtMostTheRequestedNumberOfParts() throws {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        for (deks, parts) in [(0, 4), (1, 4), (10, 4), (10, 1), (13, 5), (3, 8)] {
            let already = try f.count("SELECT count(*) FROM data_keys")
            try f.seedDEKs(deks)
            let preparation = try RotationPreparation.make(f.connection, rewrapOnly: nil, parts: parts)
            let kek = try XCTUnwrap(preparation.plan.keks.first { $0.state == .active }?.id)
            XCTAssertEqual(preparation.scanned.first { $0.kek == kek }?.deks, Int64(already + deks))
            let (start, split) = try f.connection.transaction {
                try RotationSteps.start(f.connection, preparation, rootKeys: f.rootKeys, actor: "test", jobID: nil)
            }
            let total = already + deks
            XCTAssertEqual(start.total, Int64(total))
            XCTAssertLessThanOrEqual(split.count, parts, "\(total) DEKs in \(parts) parts")
            XCTAssertEqual(split.isEmpty, total == 0, "an empty KEK gets no part")
            let sizes = try split.map { part in
                try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1 AND id > $2 AND id <= $3",
                            [part.fromKek, part.afterId, part.upToId])
            }
            XCTAssertEqual(sizes.reduce(0, +), total, "every DEK in exactly one part")
            XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), total / max(parts, 1) + 1, "\(sizes)")
            if let last = split.last { XCTAssertEqual(last.upToId, .max) }
            XCTAssertTrue(split.allSatisfy { $0.toKek == start.newKek && $0.fromKek == kek })
            // Move them all, so the next round starts with every DEK under the new active KEK.
            try f.connection.execute("UPDATE data_keys SET kek_id = $1 WHERE kek_id = ANY($2::int4[])",
                                     [start.newKek, PostgresArray(start.oldKeks)])
        }
    }

    /// Without a part count, a KEK gets one part per 50,000 DEKs, from 1 to 8: a small rotation
    /// pays the per-part cost (a claim, a first batch with nothing in flight) fewer times.
    func testWithoutAPartCountEachPartHoldsAtLeastFiftyThousandDEKsUpToEightParts() throws {
        let expected: [(Int64, Int)] = [(0, 1), (49_999, 1), (50_000, 1), (100_000, 2), (399_999, 7), (1_000_000, 8), (100_000_000, 8)]
        for (deks, parts) in expected {
            XCTAssertEqual(RotationPreparation.defaultParts(deks: deks), parts, "\(deks) DEKs")
        }
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(1000)
        XCTAssertEqual(try RotationPreparation.make(f.connection, rewrapOnly: nil, parts: nil).scanned[0].cuts, [],
                       "1,000 DEKs: one part")
        XCTAssertEqual(try RotationPreparation.make(f.connection, rewrapOnly: nil, parts: 4).scanned[0].cuts.count, 3,
                       "a part count given is kept")
    }

    /// Dense ids with one cluster of holes (8% of the span) are cut evenly by id, reading no
    /// row: no part holds more than 1/0.9 of an even share.
    func testDenseIdsWithAClusterOfHolesAreCutByIdWithinTheBound() throws {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(1000)
        let low = try f.count("SELECT min(id) FROM data_keys")
        try f.connection.execute("DELETE FROM data_keys WHERE id >= $1 AND id < $2", [Int64(low + 300), Int64(low + 380)])
        let scanned = try RotationPreparation.make(f.connection, rewrapOnly: nil, parts: 8).scanned[0]
        XCTAssertEqual(scanned.cuts, (1..<8).map { Int64(low) - 1 + 125 * Int64($0) }, "the span of 1,000 ids cut in 8 even ranges")
        try assertParts(f, parts: 8, total: 920, largestAtMost: Int((920.0 / 8 / RotationPreparation.denseShare).rounded(.up)))
    }

    /// A KEK whose ids are interleaved with another KEK's in part of its span (of its first
    /// 200 ids, three in four moved to another KEK: 150 DEKs over 300 ids) is cut by walking its
    /// index: the parts stay even, where an even cut of the span would put 75 DEKs in the last.
    func testInterleavedIdsAreCutByWalkingAndStayEven() throws {
        let f = try KeyFixture()
        let first = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.seedDEKs(300)
        let low = try f.count("SELECT min(id) FROM data_keys")
        let second = try f.store.generate(rootKeys: f.rootKeys, activate: true)
        try f.connection.execute("UPDATE data_keys SET kek_id = $1 WHERE kek_id = $2 AND id - $3 < 200 AND (id - $3) % 4 <> 0",
                                 [second, first, Int64(low)])
        try assertParts(f, parts: 4, total: 150, largestAtMost: 38)
    }

    private func assertParts(_ f: KeyFixture, parts: Int, total: Int, largestAtMost bound: Int,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let preparation = try RotationPreparation.make(f.connection, rewrapOnly: nil, parts: parts)
        let (start, split) = try f.connection.transaction {
            try RotationSteps.start(f.connection, preparation, rootKeys: f.rootKeys, actor: "test", jobID: nil)
        }
        XCTAssertEqual(split.count, parts, file: file, line: line)
        let sizes = try split.map { part in
            try f.count("SELECT count(*) FROM data_keys WHERE kek_id = $1 AND id > $2 AND id <= $3",
                        [part.fromKek, part.afterId, part.upToId])
        }
        XCTAssertEqual(sizes.reduce(0, +), total, "every DEK in exactly one part", file: file, line: line)
        XCTAssertEqual(Int(start.total), total, file: file, line: line)
        XCTAssertLessThanOrEqual(sizes.max() ?? 0, bound, "\(sizes)", file: file, line: line)
    }
}
