import JobQueue
import PostgresClient

/// What `kek rotate` and `kek reencrypt` ask for, with the checks a worker would make refused
/// before anything is queued, so the operator hears of a refusal at once and not from a
/// failed job minutes later.
public enum KeyJobRequests {
    /// Enqueues a rotation (one at a time: a second request returns the running one). Refused
    /// when the target KEK's wrap budget cannot hold every DEK to move (the decision and check
    /// of `RotationPlan`, which the job makes again), or when `rootKeys` cannot open the KEKs
    /// in use (`KeyringProof`).
    public static func rotate(_ connection: PostgresConnection, rootKeys: RootKeys, actor: String,
                              _ arguments: RotationArguments) throws -> EnqueuedJob {
        try RotationPlan.make(connection, rewrapOnly: arguments.rewrapOnly).checkBudget()
        try KeyringProof.require(connection, rootKeys, actor: actor)
        return try JobQueue(connection: connection).enqueue(try KeyJobKinds.rotationRequest(arguments))
    }

    /// Enqueues a re-encryption of every DEK under the named KEKs (or all), one at a time like rotations.
    public static func reencrypt(_ connection: PostgresConnection, _ arguments: ReencryptArguments) throws -> EnqueuedJob {
        try JobQueue(connection: connection).enqueue(try KeyJobKinds.reencryptionRequest(arguments))
    }
}
