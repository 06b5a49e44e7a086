import JobQueue

/// The arguments of a `verify` job: `values: true` opens every value too.
struct VerificationArguments: JobArguments, Equatable {
    static let kind = "verify"
    var values: Bool?
}

/// Runs a `verify` job: the same check as `kek verify`, its summary kept as the job result.
/// The reads run in the job's read-only handle, one short transaction per batch with the
/// lease renewed between them; the record of the outcome (`kek_verifications`, the audit
/// row) is written in one fenced batch.
struct VerifyHandler: JobHandler {
    func run(_ context: JobContext, _ arguments: VerificationArguments, _ checkpoint: NoCheckpoint?) throws -> JobOutcome {
        var verifier = Verifier(rootKeys: try RootKeys.fromEnvironment()) { body in try context.read(body) }
        verifier.progress = { _ in try? context.renewLease() }
        let report = try verifier.check(openValues: arguments.values ?? false)
        try context.batch(progressDone: report.deksChecked) { connection in
            try Verifier.record(report, on: connection, actor: context.workerID)
        }
        guard report.passed else {
            let named = report.failures.prefix(5).map { "\($0.table) \($0.id): \($0.reason)" }.joined(separator: "; ")
            throw PermanentJobError("verification found \(report.failures.count) unreadable rows: \(named)")
        }
        return try .completed(report)
    }
}
