import Foundation
import JobQueue
import KeyManagement
import PostgresClient

extension Command {
    static let demo = Command.typed(
        "demo",
        abstract: "Run the whole story on a throwaway PostgreSQL (or DATABASE_URL) and clean up.",
        discussion: """
            Migrates, generates a KEK, imports a sample env file into a project, generates webhook
            signing keys and synthetic secrets, starts two worker loops, rotates the KEK with a live
            progress line, verifies every DEK, and prints a summary read from the database.
            """,
        options: DemoOptions.self,
        run: { options in
            let environment = try ScratchEnvironment.prepare(keep: options.keep)
            defer { environment.finish(keep: options.keep) }
            try DemoStory(url: environment.url, secrets: options.secrets).run()
        }
    )
}

/// `kek demo`'s options.
struct DemoOptions: CommandOptions {
    var secrets = 200_000
    var keep = false

    static let fields: [OptionField<Self>] = [
        .value("secrets", "N", "Synthetic secrets to create (each under its own DEK).", \.secrets,
               OptionParser.int.checked("a whole number that is not negative") { $0 >= 0 }),
        .flag("keep", "Leave the throwaway database running and print how to connect.", \.keep),
    ]
}

/// The demo's steps, each printing one line of what it did.
struct DemoStory {
    let url: String
    let secrets: Int
    let project = UUID()
    let started = Date()

    func run() throws {
        let connection = try PostgresConnection(url)
        let migrated = try Database.migrate(connection)
        step("schema migrated to version \(migrated.currentVersion)")
        let rootKeys = try RootKeys.fromEnvironment()
        let store = KEKStore(connection: connection, actor: "demo")
        let first = try store.generate(rootKeys: rootKeys, activate: true)
        step("KEK \(first) generated under root key '\(rootKeys.activeID)' and activated")
        let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
        try importSample(connection, keks: keks)
        let signing = SigningKeyStore(connection: connection, keks: keks, actor: "demo")
        for _ in 0..<2 { _ = try signing.generate(project: project) }
        step("2 webhook signing keys generated (the demo does not print them)")
        let seedStart = Date()
        try SyntheticSecrets.seed(connection, keks: keks, project: project, count: secrets) { done in
            Terminal.progress("seeding synthetic secrets: \(Formatting.count(done))/\(Formatting.count(secrets))")
        }
        Terminal.endProgress()
        step("\(Formatting.count(secrets)) synthetic secrets stored, each under its own DEK (\(seconds(since: seedStart)))")

        var configuration = WorkerConfiguration(databaseURL: url, workerID: "demo-worker")
        configuration.concurrency = 2
        configuration.pollInterval = 0.5
        configuration.useLease(seconds: 10)
        configuration.housekeeping = [DEKCounts.housekeeping()]
        let job = try InProcessWorker.running(configuration, stopTimeout: 10) {
            step("2 worker loops started")
            let job = try JobQueue(connection: connection).enqueue(KeyJobKinds.rotationRequest())
            step("rotation enqueued as job \(job.id); watching it:")
            try JobWaiter.wait(connection, jobID: job.id, label: "rotation", interval: 0.5, expectWorkers: false)
            return job
        }

        var verifier = Verifier(connection: connection, rootKeys: rootKeys)
        verifier.progress = { Terminal.progress("verifying: \(Formatting.count($0)) DEKs opened") }
        let verification = try verifier.run(openValues: false, actor: "demo")
        Terminal.endProgress()
        try summary(connection, store: store, job: job.id, verification: verification)
    }

    private func importSample(_ connection: PostgresConnection, keks: KEKCiphers) throws {
        let path = try SecretFile.privateDirectory(prefix: "kek-demo-env") + "/sample.env"
        defer { SecretFile.remove(path) }
        try SecretFile.create(path, bytes: Array(DemoSample.envFile.utf8))
        let report = try EnvImport.run(connection: connection, keks: keks, request: EnvImportRequest(project: project, envFile: path),
                                       actor: "demo")
        let names = report.entries.map { "\($0.name) \($0.status.rawValue)" }.joined(separator: ", ")
        step("sample env file imported into project \(project.uuidString.lowercased()): \(names)")
    }

    private func summary(_ connection: PostgresConnection, store: KEKStore, job: Int64, verification: VerificationReport) throws {
        let result = try JobQueue(connection: connection).job(job)?.resultJSON
        let rotation = try result.map { try JSONCodec.decode(DemoRotationResult.self, from: $0) }
        let audit = try AuditLog.verify(connection)
        print("\nsummary (read from the database)")
        print(TextTable.render(["KEK", "STATE", "DEKS"], try store.list().map { [String($0.id), $0.state.rawValue, Formatting.count($0.dekCount)] }))
        if let rotation {
            let rate = rotation.seconds > 0 ? Double(rotation.rewrapped) / rotation.seconds : 0
            print("rotation: \(Formatting.count(rotation.rewrapped)) DEKs rewrapped in \(String(format: "%.1f", rotation.seconds))s "
                + "(\(Formatting.count(Int(rate))) rows/s)")
        }
        print("verification: \(Formatting.count(verification.deksChecked)) DEKs opened, \(verification.failures.count) failures")
        print("audit chain: \(audit.firstBrokenRow == nil ? "verified" : "BROKEN at row \(audit.firstBrokenRow!)"), \(audit.rows) rows")
        print("total time: \(seconds(since: started))")
        guard verification.passed, audit.firstBrokenRow == nil else { throw CommandFailure("the demo's checks failed") }
    }

    private func step(_ text: String) { print("[\(seconds(since: started))] \(text)") }

    private func seconds(since date: Date) -> String { String(format: "%.1fs", Date().timeIntervalSince(date)) }
}

/// The fields of a finished rotation's result the summary shows.
struct DemoRotationResult: Decodable {
    var rewrapped: Int64
    var seconds: Double
}

/// The demo prints its own story; worker events are not shown.
struct QuietEvents: JobEventSink {
    func record(_ event: JobEvent) {}
}
