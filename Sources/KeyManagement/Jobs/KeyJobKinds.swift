import JobQueue

/// The job kinds of the key domain, for a worker to register.
public enum KeyJobKinds {
    /// Registers every key kind behind one gate (`KeyReadiness`): a worker claims them only
    /// while its keyring opens every KEK in use. `actor` names the worker in audit rows.
    public static func register(into registry: inout JobHandlerRegistry, actor: String) {
        registry.register(KeyGatedHandler(inner: RotateKEKHandler()))
        registry.register(KeyGatedHandler(inner: RewrapPartHandler()))
        registry.register(KeyGatedHandler(inner: ReencryptHandler()))
        registry.register(KeyGatedHandler(inner: VerifyHandler()))
        registry.register(KeyGatedHandler(inner: ImportEnvHandler()))
        registry.gate(KeyReadiness.gate(kinds: all, actor: actor))
    }

    /// Every kind `register` adds, all behind the key gate.
    static let all = [rotation, RewrapPartArguments.kind, reencryption, verification, envImport]

    /// The one way to ask for a rotation (`kek rotate`, the HTTP endpoint, the demo, the
    /// benchmark): its unique key keeps a single rotation queued or running at a time.
    public static func rotationRequest(_ arguments: RotationArguments = RotationArguments()) throws -> JobRequest {
        try JobRequest(arguments, maxAttempts: 10, uniqueKey: RotateKEKHandler.uniqueKey)
    }

    /// The one way to ask for a re-encryption (`kek reencrypt`): one at a time, like rotations.
    public static func reencryptionRequest(_ arguments: ReencryptArguments) throws -> JobRequest {
        try JobRequest(arguments, maxAttempts: 10, uniqueKey: "reencrypt")
    }

    public static let rotation = RotationArguments.kind
    public static let rotationUniqueKey = RotateKEKHandler.uniqueKey
    public static let reencryption = ReencryptArguments.kind
    public static let verification = VerificationArguments.kind
    public static let envImport = RetiredEnvImportArguments.kind
}
