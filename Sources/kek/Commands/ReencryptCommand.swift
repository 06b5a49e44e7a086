import Foundation
import JobQueue
import KeyManagement

extension Command {
    static let reencrypt = Command.typed(
        "reencrypt",
        abstract: "After a compromise: give every value under the given KEKs a new DEK and a new ciphertext.",
        discussion: """
            Give exactly one of --kek and --all. The job ends only when no DEK is left under the
            named KEKs: rows that applications hold are retried until --lock-wait runs out, and then
            the job fails naming them. DEKs that no table kek knows uses keep their key and get a new
            wrap under the active KEK (the job's result says how many). --all first generates and
            activates a new KEK, then replaces every DEK under the others.
            """,
        options: ReencryptOptions.self,
        run: { options in
            // Exactly one: ids given and no --all, or --all and no ids.
            guard options.kekIds.isEmpty == options.all else {
                throw UsageError("kek reencrypt: give exactly one of --kek ID[,ID] and --all")
            }
            let request = ReencryptArguments(
                kekIds: options.kekIds.isEmpty ? nil : options.kekIds, all: options.all ? true : nil,
                batchSize: options.batchSize, maxRate: options.maxRate, lockWaitSeconds: options.lockWait)
            try checkBounds("kek reencrypt") { try request.validate() }
            let connection = try Database.connect()
            let job = try KeyJobRequests.reencrypt(connection, request)
            try enqueued(JobRequested(job, kind: KeyJobKinds.reencryption, label: "re-encryption"), connection, options.following,
                         path: "kek reencrypt")
        }
    )

    /// Runs a job-arguments check, reporting what it refuses as a usage error.
    static func checkBounds(_ path: String, _ check: () throws -> Void) throws {
        do { try check() } catch let error as InvalidJobArguments { throw UsageError("\(path): \(error.description)") }
    }
}

/// `kek reencrypt`'s options.
struct ReencryptOptions: CommandOptions {
    var kekIds: [Int32] = []
    var all = false
    var batchSize = ReencryptArguments.defaultBatchSize
    var maxRate: Double?
    var lockWait: TimeInterval = ReencryptArguments.defaultLockWaitSeconds
    var following = JobFollowing()

    static let fields: [OptionField<Self>] = [
        .value("kek", "ID[,ID]", "The compromised KEK(s).", \.kekIds, .kekIDs),
        .flag("all", "Every KEK (every DEK and value is replaced).", \.all),
        .value("batch-size", "N", "DEKs per batch transaction.", \.batchSize, .int),
        .value("max-rate", "ROWS_PER_S", "Cap on DEKs per second, final pass included.", \.maxRate, .rate),
        .value("lock-wait", "DURATION", "How long the final pass waits for rows other transactions hold.", \.lockWait, .duration),
        .flag("wait", "Show progress until it ends.", \.following.wait),
        .value("timeout", "DURATION", "With --wait: give up waiting after this long (exit 1; the job goes on).", \.following.timeout, .duration),
        .flag("json", Command.Option.json.help, \.following.json),
    ]
}

/// What `kek rotate` and `kek reencrypt` do after enqueuing: `--wait` (with `--timeout`) and `--json`.
struct JobFollowing: Sendable {
    var wait = false
    var timeout: TimeInterval?
    var json = false
}
