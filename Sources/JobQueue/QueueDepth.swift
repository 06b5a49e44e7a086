import Foundation
import PostgresClient

/// One (kind, state) cell of the queue.
public struct KindStateCount: Sendable, Equatable {
    public var kind: String
    public var state: JobState
    public var count: Int
}

/// A worker process as its heartbeat row shows it. In JSON every key is present
/// (`stopped_at` is null while the worker runs).
public struct WorkerHeartbeat: Codable, Sendable, Equatable {
    public var id: String
    public var host: String
    public var pid: Int
    public var concurrency: Int
    public var startedAt: Date
    public var lastHeartbeatAt: Date
    public var stoppedAt: Date?
    public var heartbeatAgeSeconds: Double
    /// Not stopped, and a heartbeat within `aliveWithin` seconds.
    public var alive: Bool

    /// Workers refresh their row at least every 10 s; three missed beats mean gone.
    public static let aliveWithin: Double = 30

    /// snake_case as written (JSONCodec applies no key strategy; the old snake_case strategy left these unchanged).
    private enum CodingKeys: String, CodingKey {
        case id, host, pid, concurrency, startedAt = "started_at", lastHeartbeatAt = "last_heartbeat_at"
        case stoppedAt = "stopped_at", heartbeatAgeSeconds = "heartbeat_age_seconds", alive
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(host, forKey: .host)
        try c.encode(pid, forKey: .pid)
        try c.encode(concurrency, forKey: .concurrency)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(lastHeartbeatAt, forKey: .lastHeartbeatAt)
        try c.encode(stoppedAt, forKey: .stoppedAt) // null, not absent
        try c.encode(heartbeatAgeSeconds, forKey: .heartbeatAgeSeconds)
        try c.encode(alive, forKey: .alive)
    }
}

extension JobQueue {
    /// Jobs per (kind, state), parts included, ordered by kind then state.
    public func countsByKindAndState() throws -> [KindStateCount] {
        try connection.query("SELECT kind, state, count(*)::int8 FROM jobs GROUP BY kind, state ORDER BY kind, state").map {
            KindStateCount(kind: try $0.decode(0), state: try $0.decodeCase(1), count: try $0.decode(2))
        }
    }

    /// Seconds the oldest job that could run now has waited unclaimed; nil when none waits.
    public func oldestRunnableQueuedAgeSeconds() throws -> Double? {
        try connection.query("""
            SELECT extract(epoch FROM now() - min(run_at))::float8 FROM jobs WHERE state = 'queued' AND run_at <= now()
            """)[0].decode(0)
    }

    /// The workers that have reported, latest heartbeat first.
    public func workers(limit: Int) throws -> [WorkerHeartbeat] {
        try connection.query("""
            SELECT id, host, pid, concurrency, started_at, last_heartbeat_at, stopped_at,
                   extract(epoch FROM now() - last_heartbeat_at)::float8
              FROM workers ORDER BY last_heartbeat_at DESC LIMIT $1
            """, [limit]).map { row in
            let stopped: Date? = try row.decode(6)
            let age: Double = try row.decode(7)
            return WorkerHeartbeat(
                id: try row.decode(0), host: try row.decode(1), pid: Int(try row.decode(2) as Int32),
                concurrency: Int(try row.decode(3) as Int32), startedAt: try row.decode(4), lastHeartbeatAt: try row.decode(5),
                stoppedAt: stopped, heartbeatAgeSeconds: age, alive: stopped == nil && age <= WorkerHeartbeat.aliveWithin)
        }
    }

    /// Whether any worker has sent a heartbeat within `WorkerHeartbeat.aliveWithin` seconds.
    public func anyWorkerAlive() throws -> Bool {
        try connection.query("""
            SELECT EXISTS (SELECT 1 FROM workers WHERE last_heartbeat_at > now() - make_interval(secs => $1))
            """, [WorkerHeartbeat.aliveWithin])[0].decode(0)
    }

    /// The latest occurrence of each named schedule that has run.
    public func lastOccurrences(schedules: [String]) throws -> [String: Date] {
        guard !schedules.isEmpty else { return [:] }
        var result: [String: Date] = [:]
        for row in try connection.query("""
            SELECT schedule, max(enqueued_at) FROM job_schedule_runs WHERE schedule = ANY($1::text[]) GROUP BY schedule
            """, [PostgresArray(schedules)]) {
            result[try row.decode(0)] = try row.decode(1)
        }
        return result
    }

    /// Whether the database has the jobs schema (`kek migrate` has run).
    public func schemaInstalled() throws -> Bool {
        try connection.query("SELECT to_regclass('jobs') IS NOT NULL")[0].decode(0)
    }
}
