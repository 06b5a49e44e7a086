import Foundation
import KeyManagement
import PostgresClient

/// What a command that reads or writes encrypted items needs: the database, the root keys
/// from the environment, the KEKs they unwrap, and the actor for audit rows.
struct KeyContext {
    let connection: PostgresConnection
    let keks: KEKCiphers
    let actor: String

    static func open() throws -> KeyContext {
        let connection = try Database.connect()
        let rootKeys = try RootKeys.fromEnvironment()
        if let warning = rootKeys.warning { Terminal.note("kek: warning: \(warning)") }
        return KeyContext(connection: connection, keks: KEKCiphers(connection: connection, rootKeys: rootKeys), actor: OSActor.name)
    }

    var secrets: SecretStore { SecretStore(connection: connection, keks: keks, actor: actor) }
    var signingKeys: SigningKeyStore { SigningKeyStore(connection: connection, keks: keks, actor: actor) }
}

extension ParsedArguments {
    /// The `--project UUID` every secrets command requires.
    func project() throws -> UUID {
        guard let project = try uuid("project") else { throw UsageError("\(commandPath): missing required option '--project'") }
        return project
    }

    /// Positional argument `index` as a UUID.
    func uuidArgument(_ index: Int, _ what: String) throws -> UUID {
        guard let text = argument(index) else { throw UsageError("\(commandPath): missing argument <\(what)>") }
        guard let id = UUID(uuidString: text) else { throw UsageError("\(commandPath): <\(what)> expects a UUID, got '\(text)'") }
        return id
    }
}
