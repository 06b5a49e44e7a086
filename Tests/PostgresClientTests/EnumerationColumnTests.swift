import PostgresClient
import TestSupport
import XCTest

/// States cross layers as enumerations: text a state column holds that the code does not
/// know is an error where it is read, never a default state.
final class EnumerationColumnTests: XCTestCase {
    enum Light: String { case red, green }

    func testKnownTextDecodesNullIsNilAndUnknownTextIsAnError() throws {
        let db = try PostgresConnection(try TestDatabase.fresh())
        let row = try db.query("SELECT 'green'::text, NULL::text, 'amber'::text")[0]
        XCTAssertEqual(try row.decodeCase(0, as: Light.self), .green)
        XCTAssertNil(try row.decodeCase(1, as: Light?.self))
        XCTAssertThrowsError(try row.decodeCase(2, as: Light.self)) { error in
            XCTAssertTrue(String(describing: error).contains("'amber'"), "\(error)")
        }
        XCTAssertThrowsError(try row.decodeCase(2, as: Light?.self))
    }
}
