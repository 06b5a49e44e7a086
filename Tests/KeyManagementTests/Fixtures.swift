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

    /// A fresh database migrated only with the files numbered below `version`: a store as it
    /// was before a migration, for tests of what that migration does to existing rows.
    static func migrated(below version: Int) throws -> PostgresConnection {
        let db = try PostgresConnection(try TestDatabase.fresh())
        let early = try TemporaryFolder("kek-sql")
        defer { early.remove() }
        for file in try FileManager.default.contentsOfDirectory(atPath: TestDatabase.sqlDirectory)
        where file.hasSuffix(".sql") && (Int(file.prefix(3)) ?? .max) < version {
            try FileManager.default.copyItem(atPath: TestDatabase.sqlDirectory + "/" + file, toPath: early.url.appendingPathComponent(file).path)
        }
        _ = try SchemaMigrator(directory: early.path).migrate(db)
        return db
    }
}
