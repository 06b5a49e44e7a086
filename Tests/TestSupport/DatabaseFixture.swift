import PostgresClient

extension PostgresConnection {
    /// The first column of the first row of `sql` as a count (`SELECT count(*) ...`).
    public func count(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        try query(sql, parameters)[0].decode(0)
    }
}

/// A test's setting built around one connection to its own database (a migrated database, a
/// seeded store, a rotation scenario): conforming gives it the shared query helpers, so no
/// fixture writes them again.
public protocol DatabaseFixture {
    var connection: PostgresConnection { get }
}

extension DatabaseFixture {
    /// See `PostgresConnection.count(_:_:)`.
    public func count(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        try connection.count(sql, parameters)
    }
}
