import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// One measured line of `kek bench`.
struct BenchLine: Encodable {
    var name: String
    var rows: Int
    var seconds: Double
    var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    var microsecondsPerRow: Double { rows > 0 ? seconds * 1_000_000 / Double(rows) : 0 }

    enum CodingKeys: String, CodingKey { case name, rows, seconds, rowsPerSecond, microsecondsPerRow }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(rows, forKey: .rows)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(rowsPerSecond, forKey: .rowsPerSecond)
        try container.encode(microsecondsPerRow, forKey: .microsecondsPerRow)
    }
}

/// Measures rewrap against the database's own ceilings on the same rows, in one run:
/// (a) a batched UPDATE loop with the same batch size and no crypto, (b) one UPDATE of
/// every row, (c) and (d) real rotations through the job queue with 1 and 2 worker loops,
/// (e) verification, and the rotation at 100k rows to compare per-row cost.
struct RewrapBenchmark {
    let url: String
    let rows: Int
    let batchSize: Int
    let peer: Bool
    let connection: PostgresConnection
    let rootKeys: RootKeys

    init(url: String, rows: Int, batchSize: Int, peer: Bool) throws {
        self.url = url
        self.rows = rows
        self.batchSize = batchSize
        self.peer = peer
        connection = try PostgresConnection(url)
        _ = try Database.migrate(connection)
        rootKeys = try RootKeys.fromEnvironment()
    }

    func run() throws -> [BenchLine] {
        let store = KEKStore(connection: connection, actor: "bench")
        try store.generate(rootKeys: rootKeys, activate: true)
        let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
        var lines: [BenchLine] = []
        let small = min(rows, 100_000)
        try seed(keks, count: small, total: rows)
        lines.append(try rotation(workers: 1, name: "rewrap, 1 worker, \(Formatting.count(small)) rows", rows: small))
        try seed(keks, count: rows - small, total: rows)
        try vacuum()
        lines.append(try batchedLoop())
        try vacuum()
        lines.append(try singleStatement())
        try vacuum()
        lines.append(try rotation(workers: 1, name: "(c) rewrap, 1 worker", rows: rows))
        try vacuum()
        lines.append(try rotation(workers: 2, name: "(d) rewrap, 2 workers", rows: rows))
        lines.append(try verification())
        if peer {
            try vacuum()
            lines.append(try PeerRewrap(url: url, connection: connection, rootKeys: rootKeys, batchSize: batchSize).run(rows: rows))
        }
        return lines
    }

    private func seed(_ keks: KEKCiphers, count: Int, total: Int) throws {
        guard count > 0 else { return }
        let before: Int = try connection.query("SELECT count(*) FROM data_keys")[0].decode(0)
        try SyntheticSecrets.seedDataKeys(connection, keks: keks, count: count) { done in
            Terminal.progress("seeding DEKs: \(Formatting.count(before + done))/\(Formatting.count(total))")
        }
        Terminal.endProgress()
    }

    private func vacuum() throws {
        // One statement per call: VACUUM cannot run inside the implicit block of a multi-statement script.
        for table in ["data_keys", "keks", "jobs"] { try connection.executeScript("VACUUM ANALYZE \(table)") }
    }

    /// (a): what the rewrap does per batch, minus the crypto: lock a batch, write it back.
    private func batchedLoop() throws -> BenchLine {
        let started = Date()
        var after: Int64 = 0
        var total = 0
        while true {
            let done: Int64? = try connection.transaction {
                let batch = try connection.query(
                    "SELECT id, wrapped_key FROM data_keys WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED", [after, batchSize])
                guard let last = batch.last else { return nil }
                let ids: [Int64] = try batch.map { try $0.decode(0) }
                let keys: [[UInt8]] = try batch.map { try $0.decode(1) }
                try connection.execute("""
                    UPDATE data_keys d SET wrapped_key = u.k FROM unnest($1::int8[], $2::bytea[]) AS u(id, k)
                    WHERE d.id = u.id AND d.wrapped_key = u.k
                    """, [PostgresArray(ids), PostgresArray(keys)])
                total += ids.count
                return try last.decode(0)
            }
            guard let done else { break }
            after = done
            Terminal.progress("(a) batched UPDATE loop: \(Formatting.count(total))")
        }
        Terminal.endProgress()
        return BenchLine(name: "(a) batched UPDATE loop, no crypto", rows: total, seconds: Date().timeIntervalSince(started))
    }

    /// (b): the database's own ceiling, no round trips at all.
    private func singleStatement() throws -> BenchLine {
        Terminal.note("(b) one UPDATE of every row...")
        let started = Date()
        let updated = try connection.execute("UPDATE data_keys SET wrapped_key = wrapped_key")
        return BenchLine(name: "(b) single UPDATE statement", rows: updated, seconds: Date().timeIntervalSince(started))
    }

    /// (c), (d): a real rotation through the job queue, timed from enqueue to completion.
    private func rotation(workers: Int, name: String, rows: Int) throws -> BenchLine {
        var configuration = WorkerConfiguration(databaseURL: url, workerID: "bench-\(workers)")
        configuration.concurrency = workers
        configuration.pollInterval = 0.2
        let worker = JobWorker(configuration: configuration, handlers: JobKinds.handlers(actor: configuration.workerID), events: QuietEvents())
        worker.start()
        defer {
            worker.requestStop()
            _ = worker.waitUntilStopped(timeout: 30)
        }
        let started = Date()
        let job = try JobQueue(connection: connection).enqueue(KeyJobKinds.rotationRequest(RotationArguments(batchSize: batchSize)))
        try JobWaiter.wait(connection, jobID: job.id, label: name, interval: 0.2, expectWorkers: false)
        return BenchLine(name: name, rows: rows, seconds: Date().timeIntervalSince(started))
    }

    /// (e): open every KEK and DEK.
    private func verification() throws -> BenchLine {
        let started = Date()
        var verifier = Verifier(connection: connection, rootKeys: rootKeys)
        verifier.progress = { Terminal.progress("(e) verification: \(Formatting.count($0))") }
        let report = try verifier.run(openValues: false, actor: "bench")
        Terminal.endProgress()
        guard report.passed else { throw CommandFailure("verification failed after the benchmark: \(report.failures.count) rows") }
        return BenchLine(name: "(e) verification", rows: Int(report.deksChecked), seconds: Date().timeIntervalSince(started))
    }
}
