import Foundation
import JobQueue
import PostgresClient

/// What a command reports when it is done: one line (or a few) for people, the same facts
/// as JSON with `--json` (its coding keys, snake_case like every other `--json` document of kek).
protocol CommandResult: Encodable {
    var text: String { get }
}

extension Command {
    /// Prints `result` as JSON when `--json` was given, as text otherwise.
    static func report(json: Bool, _ result: some CommandResult) throws {
        if json { try Output.json(result) } else { print(result.text) }
    }
}

extension Command.Option {
    static let json = Command.Option.flag("json", "Print the result as JSON.")
}

/// The options of a command whose only option is `--json` ("Print the result as JSON.").
struct ResultJSONOptions: CommandOptions {
    var json = false
    static let fields: [OptionField<Self>] = [.flag("json", Command.Option.json.help, \.json)]
}

/// The options of a listing whose only option is `--json` ("Print JSON.").
struct PrintJSONOptions: CommandOptions {
    var json = false
    static let fields: [OptionField<Self>] = [.flag("json", "Print JSON.", \.json)]
}

/// A KEK that was created or moved to another state.
struct KEKChange: CommandResult {
    var kekId: Int32
    var state: String
    var rootKeyId: String?
    var destroyAfter: Date?
    var replacementKekId: Int32?
    var text: String

    private enum CodingKeys: String, CodingKey {
        case state
        case kekId = "kek_id", rootKeyId = "root_key_id", destroyAfter = "destroy_after", replacementKekId = "replacement_kek_id"
    }
}

/// KEKs whose wrapped key was erased.
struct KEKsDestroyed: CommandResult {
    var destroyed: [Int32]
    var text: String {
        destroyed.isEmpty ? "no KEK due for destruction" : "destroyed KEKs: \(destroyed.map(String.init).joined(separator: ", "))"
    }

    private enum CodingKeys: String, CodingKey { case destroyed }
}

/// A job asked for by `kek rotate` or `kek reencrypt`, and with `--wait` how it ended.
struct JobRequested: CommandResult {
    var jobId: Int64
    var kind: String
    /// False when the same job was already queued or running (its unique key).
    var enqueued: Bool
    /// With `--wait`: the state it reached (`completed`).
    var state: String?
    var label: String

    init(_ job: EnqueuedJob, kind: String, label: String) {
        jobId = job.id
        self.kind = kind
        enqueued = job.inserted
        self.label = label
    }

    var text: String {
        if let state { return "\(label) job \(jobId) \(state)" }
        return enqueued ? "\(label) enqueued as job \(jobId)" : "a \(label) is already queued or running: job \(jobId)"
    }

    private enum CodingKeys: String, CodingKey { case kind, enqueued, state, jobId = "job_id" }
}
