import Foundation
import KeyManagement
import PostgresClient

extension Command {
    static let keys = Command(
        name: "keys",
        abstract: "Generate, list and move KEKs through their lifecycle.",
        discussion: """
            States: pending -> active (exactly one) -> decrypt_only -> retired -> destroyed,
            or compromised. Needs DATABASE_URL and KEK_ROOT_KEYS (or KEK_ROOT_KEYS_FILE).
            """,
        subcommands: [keysGenerate, keysList, keysActivate, keysRetire, keysDestroy, keysPurge, keysCompromised, keysWrapLimit]
    )

    static let keysGenerate = Command.typed(
        "generate",
        abstract: "Create a new KEK wrapped under the active root key (pending until activated).",
        options: KEKGenerateOptions.self,
        run: { options in
            let session = try KeySession.open()
            let activate = options.activate
            let id = try session.store.generate(rootKeys: session.rootKeys, activate: activate)
            try report(json: options.json, KEKChange(
                kekId: id, state: activate ? "active" : "pending", rootKeyId: session.rootKeys.activeID,
                text: "KEK \(id) generated under root key '\(session.rootKeys.activeID)'" + (activate ? " and activated" : " (pending)")))
        }
    )

    static let keysList = Command.typed(
        "list",
        abstract: "List KEKs with their state, dates and DEK counts (never key material).",
        options: PrintJSONOptions.self,
        run: { options in
            let store = KEKStore(connection: try Database.connect(), actor: Actor.current)
            let keks = try store.list()
            if options.json {
                try Output.json(keks.map(KEKListing.init))
            } else {
                print(TextTable.render(
                    ["ID", "STATE", "ROOT", "CREATED", "ACTIVATED", "RETIRED", "DEKS", "WRAPS", "DESTROY AFTER"],
                    keks.map { [String($0.id), $0.state.rawValue, $0.rootKeyID, Formatting.time($0.createdAt),
                                Formatting.time($0.activatedAt), Formatting.time($0.retiredAt),
                                Formatting.count($0.dekCount), Formatting.count($0.wrapCount),
                                // A scheduled destruction must be visible where the operator looks
                                // before it happens (runbooks/destroy-old-kek.md, "changed your mind").
                                Formatting.time($0.destroyAfter)] }))
            }
            try KEKHealthOutput.report(store.connection, json: options.json)
        }
    )

    static let keysActivate = Command.typed(
        "activate",
        abstract: "Activate a pending KEK; the previous active KEK becomes decrypt_only (run 'kek rotate' to move its DEKs).",
        options: KEKIDOptions.self,
        run: { options in
            let session = try KeySession.open()
            let id = options.id
            try session.store.activate(id, rootKeys: session.rootKeys)
            try report(json: options.json, KEKChange(kekId: id, state: "active", text: "KEK \(id) is active"))
        }
    )

    static let keysRetire = Command.typed(
        "retire",
        abstract: "Retire a decrypt_only KEK that no DEK references any more.",
        options: KEKIDOptions.self,
        run: { options in
            let store = KEKStore(connection: try Database.connect(), actor: Actor.current)
            let id = options.id
            try store.retire(id)
            try report(json: options.json, KEKChange(kekId: id, state: "retired", text: "KEK \(id) retired"))
        }
    )

    static let keysDestroy = Command.typed(
        "destroy",
        abstract: "Schedule the irreversible erasure of a retired KEK after a grace window.",
        discussion: """
            Refused while any DEK references the KEK, and unless 'kek verify' passed after its
            retirement. The key is erased by 'kek keys purge' (or a worker) once the window ends;
            --cancel undoes the schedule before then.
            """,
        options: KEKDestroyOptions.self,
        run: { options in
            let store = KEKStore(connection: try Database.connect(), actor: Actor.current)
            let id = options.id
            if options.cancel {
                try store.cancelDestruction(id)
                return try report(json: options.json, KEKChange(kekId: id, state: "retired", text: "destruction of KEK \(id) cancelled"))
            }
            let when = try store.scheduleDestruction(id, after: options.after)
            try report(json: options.json, KEKChange(
                kekId: id, state: "retired", destroyAfter: when,
                text: "KEK \(id) will be destroyed after \(Formatting.time(when)) (cancel with 'kek keys destroy --cancel \(id)')"))
        }
    )

    static let keysPurge = Command.typed(
        "purge",
        abstract: "Erase the wrapped key of every KEK whose destruction window has passed.",
        options: ResultJSONOptions.self,
        run: { options in
            let store = KEKStore(connection: try Database.connect(), actor: Actor.current)
            try report(json: options.json, KEKsDestroyed(destroyed: try store.destroyDue()))
        }
    )

    static let keysCompromised = Command.typed(
        "compromised",
        abstract: "Mark a KEK compromised; if it was active, a replacement is generated and activated.",
        discussion: "Rewrapping is not enough after a compromise: run 'kek reencrypt --kek ID' next (runbooks/emergency-rotation.md).",
        options: KEKIDOptions.self,
        run: { options in
            let session = try KeySession.open()
            let id = options.id
            let replacement = try session.store.markCompromised(id, rootKeys: session.rootKeys)
            try report(json: options.json, KEKChange(
                kekId: id, state: "compromised", replacementKekId: replacement,
                text: "KEK \(id) marked compromised" + (replacement.map { "; KEK \($0) generated and activated" } ?? "")
                    + "\nnext: kek reencrypt --kek \(id) --wait"))
        }
    )

}

/// `kek keys generate`'s options.
struct KEKGenerateOptions: CommandOptions {
    var activate = false
    var json = false

    static let fields: [OptionField<Self>] = [
        .flag("activate", "Activate it at once (the current active KEK becomes decrypt_only).", \.activate),
        .flag("json", Command.Option.json.help, \.json),
    ]
}

/// The options of the `kek keys` verbs that take one KEK id.
struct KEKIDOptions: CommandOptions {
    var id: Int32 = 0
    var json = false

    static let fields: [OptionField<Self>] = [
        .flag("json", Command.Option.json.help, \.json),
        .argument(0, "id", "The KEK id.", \.id, .kekID),
    ]
}

/// `kek keys destroy`'s options.
struct KEKDestroyOptions: CommandOptions {
    var id: Int32 = 0
    var after: TimeInterval = 7 * 86_400
    var cancel = false
    var json = false

    static let fields: [OptionField<Self>] = [
        .value("after", "DURATION", "Grace window before erasure.", \.after, .duration),
        .flag("cancel", "Cancel a scheduled destruction.", \.cancel),
        .flag("json", Command.Option.json.help, \.json),
        .argument(0, "id", "The KEK id.", \.id, .kekID),
    ]
}

/// A KEK as `kek keys list --json` prints it.
struct KEKListing: Encodable {
    var id: Int32
    var state: String
    var rootKeyId: String
    var createdAt: Date
    var activatedAt: Date?
    var retiredAt: Date?
    var destroyAfter: Date?
    var destroyedAt: Date?
    var dekCount: Int64
    var wrapCount: Int64

    private enum CodingKeys: String, CodingKey {
        case id, state
        case rootKeyId = "root_key_id", createdAt = "created_at", activatedAt = "activated_at", retiredAt = "retired_at"
        case destroyAfter = "destroy_after", destroyedAt = "destroyed_at", dekCount = "dek_count", wrapCount = "wrap_count"
    }

    init(_ record: KEKRecord) {
        id = record.id
        state = record.state.rawValue
        rootKeyId = record.rootKeyID
        createdAt = record.createdAt
        activatedAt = record.activatedAt
        retiredAt = record.retiredAt
        destroyAfter = record.destroyAfter
        destroyedAt = record.destroyedAt
        dekCount = record.dekCount
        wrapCount = record.wrapCount
    }
}

/// What a command that wraps, unwraps or reads encrypted items needs: the database, the
/// root keys from the environment, the KEKs they unwrap, and the actor for audit rows.
struct KeySession {
    let connection: PostgresConnection
    let rootKeys: RootKeys
    let keks: KEKCiphers
    let actor = Actor.current

    /// Loads the keyring and connects; refuses a keyring in which a recorded root key id
    /// holds another key, before anything is read or written.
    static func open() throws -> KeySession {
        let rootKeys = try RootKeys.fromEnvironment()
        if let warning = rootKeys.warning { Terminal.error("warning: \(warning)") }
        let connection = try Database.connect()
        try RootKeyIdentities.verify(connection, rootKeys)
        return KeySession(connection: connection, rootKeys: rootKeys, keks: KEKCiphers(connection: connection, rootKeys: rootKeys))
    }

    var store: KEKStore { KEKStore(connection: connection, actor: actor) }
    var secrets: SecretStore { SecretStore(connection: connection, keks: keks, actor: actor) }
    var signingKeys: SigningKeyStore { SigningKeyStore(connection: connection, keks: keks, actor: actor) }
}
