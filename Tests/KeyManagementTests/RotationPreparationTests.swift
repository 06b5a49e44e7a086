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
}
