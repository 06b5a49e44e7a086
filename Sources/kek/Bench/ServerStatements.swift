import PostgresClient

/// The database's own execution time per measurement, from `pg_stat_statements` when the
/// server preloads it (`kek bench` starts its throwaway cluster that way when the module is
/// installed, package postgresql-contrib). Reset before a measurement, read after it.
struct ServerStatements {
    let connection: PostgresConnection
    let available: Bool

    init(connection: PostgresConnection) {
        self.connection = connection
        let loaded = (try? connection.query("SELECT 1 FROM pg_settings WHERE name = 'shared_preload_libraries' "
            + "AND setting LIKE '%pg_stat_statements%'").isEmpty == false) ?? false
        available = loaded && (try? connection.executeScript("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")) != nil
    }

    func reset() throws {
        guard available else { return }
        _ = try connection.query("SELECT pg_stat_statements_reset()")
    }

    /// Top-level statements since `reset`, the benchmark's own bookkeeping left out.
    func read() throws -> ServerTime? {
        guard available else { return nil }
        let rows = try connection.query("""
            SELECT query, calls, rows, total_exec_time FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC
            """)
        let statements = try rows.map { row in
            StatementCost(query: Self.shorten(try row.decode(0)), calls: Int(try row.decode(1) as Int64),
                          rows: Int(try row.decode(2) as Int64), milliseconds: try row.decode(3))
        }
        return ServerTime(totalMilliseconds: statements.reduce(0) { $0 + $1.milliseconds },
                          statements: Array(statements.prefix(6)))
    }

    /// One line of the statement, whitespace folded, cut at 90 characters.
    static func shorten(_ query: String) -> String {
        let folded = query.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return folded.count > 90 ? String(folded.prefix(87)) + "..." : folded
    }
}
