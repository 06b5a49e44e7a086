import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// Everything one `kek bench` run measured.
struct BenchResults: Encodable {
    var lines: [BenchLine]
    var explain: BatchExplain?
    var latencies: [LatencyFigures]
    var insertsPerSecond: Double
    /// Every interleaved pair of the first rows, in run order (the table shows the median of each).
    var firstRowsPairs: [FirstRowsPair]

    enum CodingKeys: String, CodingKey {
        case lines, explain, latencies, insertsPerSecond = "inserts_per_second", firstRowsPairs = "first_rows_pairs"
    }
}

/// One pair of the first rows' runs: kek's statements without crypto, then the 1-loop rotation.
struct FirstRowsPair: Encodable {
    let statementsSeconds: Double
    let rotationSeconds: Double
    let rotation: RotationTimeline?
    /// The rotation's rate over the statements' rate.
    let ratio: Double

    init(statementsSeconds: Double, rotationSeconds: Double, rotation: RotationTimeline?) {
        self.statementsSeconds = statementsSeconds
        self.rotationSeconds = rotationSeconds
        self.rotation = rotation
        ratio = rotationSeconds > 0 ? statementsSeconds / rotationSeconds : 0
    }

    enum CodingKeys: String, CodingKey {
        case ratio, rotation, statementsSeconds = "statements_seconds", rotationSeconds = "rotation_seconds"
    }
}

/// Measures the rotation against the database's own limits on the same rows, in one run.
/// Each measurement starts from the same state: every DEK under the one active KEK with real
/// keys, the table rewritten compact (`VACUUM FULL`), statistics fresh, a checkpoint taken.
struct RewrapBenchmark {
    /// What a measurement did, when its own clock is better than the wall clock around it.
    struct Measured {
        var rows: Int
        var seconds: Double?
        var timeline: RotationTimeline?
    }

    static let applicationInsertsPerSecond = 50.0
    /// Pairs of runs on the first rows. A run of 100k rows lasts one to three seconds, and on a
    /// shared 2-core machine the server's speed changes in phases about that long (the same
    /// 2,000-row move took 17–21 ms or 30–35 ms in runs of consecutive batches, in both the
    /// statements and the rotation, server log): one pair could read 0.1 either way.
    static let firstRowsRepeats = 3

    let url: String
    let rows: Int
    /// The first rows, measured on their own in interleaved pairs before the rest are seeded.
    let firstRows: Int
    let batchSize: Int
    let peer: Bool
    /// How long the application writes with no rotation running, for its idle latency.
    let idleSeconds: Double
    let connection: PostgresConnection
    let rootKeys: RootKeys
    let server: ServerStatements
    let keks: KEKCiphers
    let store: KEKStore

    init(url: String, rows: Int, firstRows: Int, batchSize: Int, peer: Bool, idleSeconds: Double) throws {
        self.url = url
        self.rows = rows
        self.firstRows = min(firstRows, rows)
        self.batchSize = batchSize
        self.peer = peer
        self.idleSeconds = idleSeconds
        connection = try PostgresConnection(url)
        _ = try Database.migrate(connection)
        rootKeys = try RootKeys.fromEnvironment()
        server = ServerStatements(connection: connection)
        keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
        store = KEKStore(connection: connection, actor: "bench")
    }

    var baselines: StatementBaselines { StatementBaselines(connection: connection, batchSize: batchSize) }

    func run() throws -> BenchResults {
        try store.generate(rootKeys: rootKeys, activate: true)
        var lines: [BenchLine] = []
        try seed(count: firstRows)
        // Untimed: the first pass over a fresh cluster pays for cold buffers and caches (it ran at
        // 0.55 of the same statements later in a run), which flattered whatever was measured next.
        _ = try sameStatements("warm-up: kek's statements, no crypto (untimed)", .smallSameStatements)
        var pairs: [FirstRowsPair] = []
        if firstRows < rows {
            let (statements, rotations) = try firstRowsRuns(into: &pairs)
            lines += [statements, rotations]
            try seed(count: rows - firstRows)
        }
        let (limit, explain) = try sameStatements("(a) kek's statements, no crypto", .sameStatements, explain: true)
        lines.append(limit)
        lines.append(try measure("(b) batched rewrite, kek_id not moved", .rewriteLoop) { Measured(rows: try baselines.rewriteLoop(label: "(b)")) })
        lines.append(try measure("(c) one UPDATE of every row", .singleUpdate) { Measured(rows: try baselines.singleUpdate()) })
        let oneLoop = try rotation("(d) kek rotation, 1 loop", .rotation1, workers: 1)
        lines.append(oneLoop)
        lines.append(try rotation("(e) kek rotation, 2 loops", .rotation2, workers: 2))
        if peer {
            lines.append(try peerLine("(f) fair Python peer, real rewrap", .peer, crypto: true))
            lines.append(try peerLine("(g) fair Python peer, no crypto", .peerNoCrypto, crypto: false))
        }
        var latencies: [LatencyFigures] = []
        lines += try applicationImpact(maxRate: oneLoop.rowsPerSecond / 2, into: &latencies)
        lines.append(try verification())
        return BenchResults(lines: lines, explain: explain, latencies: latencies, insertsPerSecond: Self.applicationInsertsPerSecond,
                            firstRowsPairs: pairs)
    }

    /// The first rows in `firstRowsRepeats` interleaved pairs (statements, rotation, statements,
    /// rotation, …), so a phase of the machine weighs on both sides; returns the run of median
    /// time of each side, named as such.
    private func firstRowsRuns(into pairs: inout [FirstRowsPair]) throws -> (statements: BenchLine, rotation: BenchLine) {
        let count = Formatting.count(firstRows)
        var statements: [BenchLine] = []
        var rotations: [BenchLine] = []
        for run in 1...Self.firstRowsRepeats {
            let pair = "\(run)/\(Self.firstRowsRepeats)"
            statements.append(try sameStatements("kek's statements, no crypto, \(count) rows, pair \(pair)", .smallSameStatements).line)
            rotations.append(try rotation("kek rotation, 1 loop, \(count) rows, pair \(pair)", .small, workers: 1))
            pairs.append(FirstRowsPair(statementsSeconds: statements[run - 1].seconds, rotationSeconds: rotations[run - 1].seconds,
                                       rotation: rotations[run - 1].timeline))
        }
        func median(_ runs: [BenchLine], _ name: String) -> BenchLine {
            var line = runs.sorted { $0.seconds < $1.seconds }[runs.count / 2]
            line.name = name
            return line
        }
        let of = "median of \(Self.firstRowsRepeats) interleaved"
        return (median(statements, "kek's statements, no crypto, \(count) rows (\(of))"),
                median(rotations, "kek rotation, 1 loop, \(count) rows (\(of))"))
    }

    private func seed(count: Int) throws {
        guard count > 0 else { return }
        let before: Int = try connection.query("SELECT count(*) FROM data_keys")[0].decode(0)
        try SyntheticSecrets.seedDataKeys(connection, keks: keks, count: count) { done in
            Terminal.progress("seeding DEKs: \(Formatting.count(before + done))/\(Formatting.count(rows))")
        }
        Terminal.endProgress()
    }

    /// The same state before every measurement: compact table, fresh statistics, clean buffers.
    private func resetTable() throws {
        // One statement per call: VACUUM cannot run inside the implicit block of a multi-statement script.
        for statement in ["VACUUM (FULL, ANALYZE) data_keys", "VACUUM ANALYZE keks"] { try connection.executeScript(statement) }
        try JobQueue(connection: connection).vacuumJobs()
        try connection.executeScript("CHECKPOINT")
    }

    /// Times `body` from the reset state (unless an application is already writing), with the
    /// server's own time when pg_stat_statements is loaded.
    private func measure(_ name: String, _ role: BenchLine.Role, reset: Bool = true, _ body: () throws -> Measured) throws -> BenchLine {
        if reset { try resetTable() }
        try server.reset()
        let load = LoadAverage.oneMinute()
        let started = DispatchTime.now().uptimeNanoseconds
        let measured = try body()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000_000
        return BenchLine(name: name, role: role, rows: measured.rows, seconds: measured.seconds ?? wall, server: try server.read(),
                         loadAtStart: load, timeline: measured.timeline)
    }

    /// A new active KEK, for a measurement that moves every DEK of the current one to it.
    private func newActiveKEK() throws -> (old: Int32, new: Int32) {
        let old = try keks.activeID()
        return (old, try store.generate(rootKeys: rootKeys, activate: true))
    }

    /// kek's statements without crypto, then the untimed repair to real keys.
    private func sameStatements(_ name: String, _ role: BenchLine.Role, explain: Bool = false) throws -> (line: BenchLine, explain: BatchExplain?) {
        let (old, new) = try newActiveKEK()
        let explained = explain ? try BatchExplain.measure(connection, url: url, old: old, new: new, batchSize: batchSize) : nil
        let line = try measure(name, role) { Measured(rows: try baselines.sameStatements(from: old, to: new, label: name)) }
        try baselines.restore(from: try keks.cipher(old), to: try keks.cipher(new))
        return (line, explained)
    }

    private func peerLine(_ name: String, _ role: BenchLine.Role, crypto: Bool) throws -> BenchLine {
        let (old, new) = try newActiveKEK()
        let line = try measure(name, role) {
            let result = try PeerRewrap(url: url, batchSize: batchSize).run(from: old, to: new, crypto: crypto)
            return Measured(rows: result.rows, seconds: result.seconds)
        }
        if !crypto { try baselines.restore(from: try keks.cipher(old), to: try keks.cipher(new)) }
        return line
    }

    /// A real rotation through the job queue, timed from enqueue to completion by the job's own
    /// timestamps (the database's clock): not the workers' start and stop around it, nor how
    /// often the benchmark looks at the job. An operator's workers are already running.
    private func rotation(_ name: String, _ role: BenchLine.Role, workers: Int, maxRate: Double? = nil, reset: Bool = true) throws -> BenchLine {
        try measure(name, role, reset: reset) {
            let moving: Int = try connection.query("SELECT count(*) FROM data_keys")[0].decode(0)
            var configuration = WorkerConfiguration(databaseURL: url, workerID: "bench-\(workers)")
            configuration.concurrency = workers
            configuration.pollInterval = 0.2
            let job = try InProcessWorker.running(configuration, stopTimeout: 30) {
                let request = try KeyJobKinds.rotationRequest(RotationArguments(batchSize: batchSize, maxRate: maxRate))
                let job = try JobQueue(connection: connection).enqueue(request)
                try JobWaiter.wait(connection, jobID: job.id, label: name, interval: 0.2, expectWorkers: false)
                return try JobQueue(connection: connection).job(job.id)
            }
            guard let job, let finished = job.finishedAt else { throw CommandFailure("\(name): the rotation job has no finish time") }
            return Measured(rows: moving, seconds: finished.timeIntervalSince(job.createdAt),
                            timeline: RotationTimeline(job: job, parts: try JobQueue(connection: connection).parts(of: job.id)))
        }
    }

    /// An application's insert-a-secret latency idle, during an unthrottled rotation and during
    /// one throttled to `maxRate` (half the unthrottled 1-loop rate of this run). Every phase
    /// starts from the reset state; the idle figure pools two windows of `idleSeconds`, one just
    /// before each rotation, so the other load of the shared machine weighs on the idle reference
    /// as on the phases it is compared with (one idle window's p99 was seen to triple from one
    /// 10 s to the next when another job started), on a sample nearer theirs in size.
    private func applicationImpact(maxRate: Double, into latencies: inout [LatencyFigures]) throws -> [BenchLine] {
        func writing<T>(_ body: () throws -> T) throws -> (result: T, sample: LatencySample, activity: PhaseActivity) {
            try resetTable()
            let before = try PhaseActivity.Counters.read(connection)
            let writer = ApplicationWriter(url: url, insertsPerSecond: Self.applicationInsertsPerSecond)
            writer.start()
            let result = try body()
            let sample = try writer.stop()
            return (result, sample, PhaseActivity(from: before, to: try .read(connection)))
        }
        func idle() throws -> (result: Void, sample: LatencySample, activity: PhaseActivity) {
            Terminal.note("application inserting secrets, idle, \(Formatting.duration(idleSeconds))...")
            return try writing { Thread.sleep(forTimeInterval: idleSeconds) }
        }
        let idleBefore = try idle()
        let unthrottled = try writing { try rotation("(h) kek rotation, 1 loop, application writing", .other, workers: 1, reset: false) }
        let idleBetween = try idle()
        let rate = Int(maxRate.rounded())
        let throttled = try writing {
            try rotation("(i) kek rotation, --max-rate \(Formatting.count(rate)), application writing", .other, workers: 1, maxRate: Double(rate), reset: false)
        }
        latencies += [
            LatencyFigures(label: "idle (2 × \(Formatting.duration(idleSeconds)), one before each rotation)",
                           samples: [idleBefore.sample, idleBetween.sample], activity: PhaseActivity(adding: [idleBefore.activity, idleBetween.activity])),
            LatencyFigures(label: "during an unthrottled rotation (1 loop)", samples: [unthrottled.sample], activity: unthrottled.activity),
            LatencyFigures(label: "during a rotation at --max-rate \(Formatting.count(rate))", samples: [throttled.sample], activity: throttled.activity),
        ]
        return [unthrottled.result, throttled.result]
    }

    /// Opens every KEK and DEK, so a benchmark that broke a key cannot pass unnoticed.
    private func verification() throws -> BenchLine {
        try measure("(j) verification", .other) {
            var verifier = Verifier(connection: connection, rootKeys: rootKeys)
            verifier.progress = { Terminal.progress("(j) verification: \(Formatting.count($0))") }
            let report = try verifier.run(openValues: false, actor: "bench")
            Terminal.endProgress()
            guard report.passed else { throw CommandFailure("verification failed after the benchmark: \(report.failures.count) rows") }
            return Measured(rows: Int(report.deksChecked))
        }
    }
}
