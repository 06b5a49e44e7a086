/// One measured line of `kek bench`: rows moved (or rewritten) in a wall-clock time, and the
/// database's own execution time for those statements when `pg_stat_statements` is loaded.
struct BenchLine: Encodable {
    /// Which baseline a line is, so ratios are computed against the right one.
    enum Role: String, Encodable {
        case sameStatements, rewriteLoop, singleUpdate, rotation1, rotation2, peer, peerNoCrypto, small, smallSameStatements, other
    }

    var name: String
    var role: Role
    var rows: Int
    var seconds: Double
    var rowsPerSecond: Double
    var microsecondsPerRow: Double
    /// Server execution time per row (all top-level statements), or nil without pg_stat_statements.
    var databaseMicrosecondsPerRow: Double?
    /// The costliest statements of this measurement, for the breakdown.
    var statements: [StatementCost]
    /// The machine's 1-minute load average when the measurement started (2 cores; the run's own work included).
    var loadAtStart: Double
    /// A rotation's start, parts and finish, by its job's timestamps.
    var timeline: RotationTimeline?

    enum CodingKeys: String, CodingKey {
        case name, role, rows, seconds, statements, timeline
        case rowsPerSecond = "rows_per_second", microsecondsPerRow = "microseconds_per_row"
        case databaseMicrosecondsPerRow = "database_microseconds_per_row", loadAtStart = "load_at_start"
    }

    init(name: String, role: Role = .other, rows: Int, seconds: Double, server: ServerTime? = nil, loadAtStart: Double = 0,
         timeline: RotationTimeline? = nil) {
        self.name = name
        self.role = role
        self.rows = rows
        self.seconds = seconds
        rowsPerSecond = seconds > 0 ? Double(rows) / seconds : 0
        microsecondsPerRow = rows > 0 ? seconds * 1_000_000 / Double(rows) : 0
        databaseMicrosecondsPerRow = server.map { rows > 0 ? $0.totalMilliseconds * 1000 / Double(rows) : 0 }
        statements = server?.statements ?? []
        self.loadAtStart = loadAtStart
        self.timeline = timeline
    }
}

/// One statement's share of a measurement, from `pg_stat_statements`.
struct StatementCost: Encodable {
    var query: String
    var calls: Int
    var rows: Int
    var milliseconds: Double
}

/// The server time of one measurement.
struct ServerTime {
    var totalMilliseconds: Double
    var statements: [StatementCost]
}
