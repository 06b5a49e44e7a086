import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient
import TestSupport

/// A migrated database, a root keyring and helpers shared by the key tests.
struct KeyFixture: DatabaseFixture {
    let url: String
    let connection: PostgresConnection
    let rootKeys: RootKeys
    let store: KEKStore

    init() throws {
        url = try TestDatabase.migrated()
        connection = try PostgresConnection(url)
        rootKeys = RootKeys(keyring: try Keyring.parse(TestRootKey.line))
        store = KEKStore(connection: connection, actor: "test")
    }

    /// Inserts `count` DEKs under the active KEK, the way an application would.
    func seedDEKs(_ count: Int) throws {
        let keks = KEKCiphers(connection: connection, rootKeys: rootKeys)
        let active = try keks.active()
        try connection.transaction {
            for _ in 0..<count { _ = try DataKeys.create(connection, under: active) }
        }
    }
}
