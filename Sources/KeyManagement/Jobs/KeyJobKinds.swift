import JobQueue

/// The job kinds of the key domain, for a worker to register.
public enum KeyJobKinds {
    /// Registers every key kind behind one gate (`KeyReadiness`): a worker claims them only
    /// while its keyring opens every KEK in use. `actor` names the worker in audit rows.
    public static func register(into registry: inout JobHandlerRegistry, actor: String) {
        let handlers: [(String, any JobHandler)] = [
            (RotateKEKHandler.kind, RotateKEKHandler()), (RewrapPartHandler.kind, RewrapPartHandler()),
            (ReencryptHandler.kind, ReencryptHandler()), (VerifyHandler.kind, VerifyHandler()),
            (ImportEnvHandler.kind, ImportEnvHandler()),
        ]
        for (kind, handler) in handlers { registry.register(kind, KeyGatedHandler(inner: handler)) }
        registry.gate(KeyReadiness.gate(kinds: handlers.map(\.0), actor: actor))
    }

    /// The one way to ask for a rotation (`kek rotate`, the HTTP endpoint, the demo, the
    /// benchmark): its unique key keeps a single rotation queued or running at a time.
    public static func rotationRequest(_ arguments: RotationArguments = RotationArguments()) throws -> JobRequest {
        JobRequest(kind: RotateKEKHandler.kind, argumentsJSON: try JobJSON.encode(arguments), maxAttempts: 10,
                   uniqueKey: RotateKEKHandler.uniqueKey)
    }

    public static let rotation = RotateKEKHandler.kind
    public static let rotationUniqueKey = RotateKEKHandler.uniqueKey
    public static let reencryption = ReencryptHandler.kind
    public static let verification = VerifyHandler.kind
    public static let envImport = ImportEnvHandler.kind
}
