import Foundation
import KeyManagement
import PostgresClient
import TestSupport
import XCTest

/// sql/043 changes the hash encoding; rows written before it must still verify.
final class AuditMigrationTests: XCTestCase {
    func testRowsHashedBeforeVersion2StillVerifyAndCannotBeForgedAsVersion1() throws {
        let db = try KeyFixture.migrated(below: 40)
        for n in 1...3 {
            try db.execute("INSERT INTO audit_log (actor, action, target) VALUES ('old|actor', 'kek.generated', $1)", ["kek:\(n)"])
        }
        _ = try SchemaMigrator(directory: TestDatabase.sqlDirectory).migrate(db)
        try AuditLog.append(db, actor: "new", action: .kekActivated, target: "kek:1")
        try AuditLog.append(db, actor: "new", action: .kekRetired, target: "kek:1")
        let versions: [Int] = try db.query("SELECT hash_version FROM audit_log ORDER BY id").map { try $0.decode(0) }
        XCTAssertEqual(versions, [1, 1, 1, 2, 2])
        let verified = try AuditLog.verify(db)
        XCTAssertTrue(verified.intact, "\(verified)")
        XCTAssertEqual(verified.head, try AuditLog.head(db))

        // A new row may not claim the old encoding, even when a superuser recomputes it that way.
        try db.executeScript("""
            SET session_replication_role = replica;
            UPDATE audit_log SET hash_version = 1,
                   hash = sha256(prev_hash || audit_log_content(id, at, actor, action, target, details)) WHERE id = 5;
            UPDATE audit_head SET hash = (SELECT hash FROM audit_log WHERE id = 5);
            SET session_replication_role = origin;
            """)
        XCTAssertEqual(try AuditLog.verify(db).firstBrokenRow, 5)
    }
}
