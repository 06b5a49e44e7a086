import JobQueue

/// Runs a `verify` job: the same check as `kek verify`, its summary kept as the job result.
struct VerifyHandler: JobHandler {
    static let kind = "verify"

    struct Arguments: Codable {
        var values: Bool?
    }

    func run(_ context: JobContext) throws -> JobOutcome {
        let arguments = try context.decodeArguments(Arguments.self, decoder: JobJSON.decoder)
        var verifier = Verifier(connection: context.connection, rootKeys: try RootKeys.fromEnvironment())
        verifier.progress = { _ in try? context.renewLease() }
        let report = try verifier.run(openValues: arguments.values ?? false, actor: context.workerID)
        guard report.passed else {
            let named = report.failures.prefix(5).map { "\($0.table) \($0.id): \($0.reason)" }.joined(separator: "; ")
            throw PermanentJobError("verification found \(report.failures.count) unreadable rows: \(named)")
        }
        return .completed(result: try JobJSON.encode(report))
    }
}
