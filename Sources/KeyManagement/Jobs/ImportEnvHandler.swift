import Foundation
import JobQueue

/// The retired `import_env` job kind: every such job fails at once, without reading its
/// arguments, a host file or the worker's environment.
///
/// Why the kind takes no sources any more: a job row is written by anyone holding the
/// `kek_worker` role, and its `env_file`/`prefix` made the worker read any file on its host
/// (the root key file included) and import its own environment (`KEK_ROOT_KEYS`,
/// `DATABASE_URL`, `KEK_STATUS_TOKEN`). The variables to import live in the operator's (or the
/// deploy step's) process, which `kek import-env` runs in: it already needs the keyring to
/// compare with what is stored, so it does the whole import in one transaction, and a staging
/// table of ciphertexts for a job to move would add a second path and no capability.
/// The kind stays registered so such a row fails with a message that says where to go,
/// instead of waiting in the queue for a worker that claims it.
struct ImportEnvHandler: JobHandler {
    static let refusal = "import_env jobs no longer read a file or the worker's environment; "
        + "run 'kek import-env' where the variables are (nothing was read or written)"

    func run(_ context: JobContext, _ arguments: RetiredEnvImportArguments, _ checkpoint: NoCheckpoint?) throws -> JobOutcome {
        throw PermanentJobError(Self.refusal)
    }
}

/// Whatever an `import_env` row holds: its fields are not read (the refusal above is the
/// same for every row), so any JSON object decodes.
struct RetiredEnvImportArguments: JobArguments {
    static let kind = "import_env"
    init() {}
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: NoKeys.self) }
    private enum NoKeys: CodingKey {}
}

/// Job kinds that no worker runs any more: `kek jobs enqueue` refuses them up front with the
/// worker's own message, so an operator learns it at once instead of from a failed job.
public enum RetiredJobKind {
    /// The worker's refusal for `kind`, or nil when workers run it.
    public static func refusal(_ kind: String) -> String? {
        kind == RetiredEnvImportArguments.kind ? ImportEnvHandler.refusal : nil
    }
}
