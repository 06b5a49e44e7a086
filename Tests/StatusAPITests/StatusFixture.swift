import Foundation
import KeyManagement
import PostgresClient
import StatusAPI
import TestSupport

/// A migrated database with an active KEK, and a status server on it, for the StatusAPI tests.
struct StatusFixture: DatabaseFixture {
    let url: String
    let connection: PostgresConnection
    let rootKeys: RootKeys

    init(activeKEK: Bool = true) throws {
        url = try TestDatabase.migrated()
        connection = try PostgresConnection(url)
        rootKeys = try RootKeys.fromEnvironment(TestRootKey.environment)
        if activeKEK { try KEKStore(connection: connection, actor: "test").generate(rootKeys: rootKeys, activate: true) }
    }

    static var latestSchemaVersion: Int {
        get throws { try TestDatabase.migrator.latestVersion }
    }

    /// Seeds `count` synthetic secrets (one DEK each) under the active KEK.
    func seed(_ count: Int) throws {
        try SyntheticSecrets.seed(connection, keks: KEKCiphers(connection: connection, rootKeys: rootKeys),
                                  project: UUID(), count: count)
    }

    func configuration(token: String? = nil, requireToken: Bool = false) throws -> StatusConfiguration {
        var configuration = StatusConfiguration(databaseURL: url)
        configuration.token = token.flatMap(BearerToken.init)
        configuration.requireTokenForReads = requireToken
        configuration.expectedSchemaVersion = try Self.latestSchemaVersion
        configuration.refreshInterval = 0.2
        return configuration
    }

    /// Starts a server; stopped when the returned object is released or `stop()` is called.
    static func start(_ configuration: StatusConfiguration) throws -> (server: StatusServer, base: String) {
        let server = StatusServer(configuration: configuration)
        let port = try server.start()
        return (server, "http://127.0.0.1:\(port)")
    }
}
