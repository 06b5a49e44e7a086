import Foundation
import JobQueue
import KeyManagement

extension Command {
    static let reencrypt = Command(
        name: "reencrypt",
        abstract: "After a compromise: give every value under the given KEKs a new DEK and a new ciphertext.",
        discussion: """
            Give exactly one of --kek and --all. The job ends only when no DEK is left under the
            named KEKs: rows that applications hold are retried until --lock-wait runs out, and then
            the job fails naming them. DEKs that no table kek knows uses keep their key and get a new
            wrap under the active KEK (the job's result says how many). --all first generates and
            activates a new KEK, then replaces every DEK under the others.
            """,
        options: [
            .value("kek", "ID[,ID]", "The compromised KEK(s)."),
            .flag("all", "Every KEK (every DEK and value is replaced)."),
            .value("batch-size", "N", "DEKs per batch transaction.", default: String(ReencryptArguments.defaultBatchSize)),
            .value("max-rate", "ROWS_PER_S", "Cap on DEKs per second, final pass included."),
            .value("lock-wait", "DURATION", "How long the final pass waits for rows other transactions hold.",
                   default: "\(Int(ReencryptArguments.defaultLockWaitSeconds))s"),
            .flag("wait", "Show progress until it ends."),
            .value("timeout", "DURATION", "With --wait: give up waiting after this long (exit 1; the job goes on)."),
            .json,
        ],
        run: { arguments in
            let ids = try (arguments.string("kek").map { $0.split(separator: ",", omittingEmptySubsequences: false) } ?? []).map { text -> Int32 in
                guard let id = Int32(text.trimmingCharacters(in: .whitespaces)), id > 0 else {
                    throw UsageError("kek reencrypt: --kek takes KEK ids separated by commas, got '\(text)'")
                }
                return id
            }
            // Exactly one: ids given and no --all, or --all and no ids.
            guard ids.isEmpty == arguments.flag("all") else {
                throw UsageError("kek reencrypt: give exactly one of --kek ID[,ID] and --all")
            }
            let request = ReencryptArguments(
                kekIds: ids.isEmpty ? nil : ids, all: arguments.flag("all") ? true : nil,
                batchSize: try arguments.int("batch-size"), maxRate: try arguments.rate("max-rate"),
                lockWaitSeconds: try arguments.duration("lock-wait"))
            try arguments.checkBounds { try request.validate() }
            let connection = try Database.connect()
            let jobRequest = try KeyJobKinds.reencryptionRequest(request)
            let job = try JobQueue(connection: connection).enqueue(jobRequest)
            try enqueued(JobRequested(job, kind: jobRequest.kind, label: "re-encryption"), connection, arguments)
        }
    )
}

extension ParsedArguments {
    /// A rows-per-second cap: a positive finite number (checked against its bounds by the job's arguments).
    func rate(_ name: String) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw UsageError("\(commandPath): option '--\(name)' expects a positive number of rows per second, got '\(text)'")
        }
        return value
    }

    /// Runs a job-arguments check, reporting what it refuses as a usage error.
    func checkBounds(_ check: () throws -> Void) throws {
        do { try check() } catch let error as InvalidJobArguments { throw UsageError("\(commandPath): \(error.description)") }
    }
}
