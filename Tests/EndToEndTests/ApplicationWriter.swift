import EnvelopeCrypto
import Foundation
import KeyManagement
import KeyWrapping
import PostgresClient

/// An application that follows DESIGN.md while a rotation runs: it re-keys existing
/// secrets with new DEKs (same value) and inserts new secrets, always under the KEK that
/// is active at that moment, retrying when the database says its view was stale.
final class ApplicationWriter: @unchecked Sendable {
    struct Totals {
        var inserted = 0
        var rekeyed = 0
        var errors: [String] = []
    }

    private let url: String
    private let rootKeyLine: String
    private let project: UUID
    private let lock = NSLock()
    private var totals = Totals()
    private var stopping = false
    private var thread: Thread?

    init(url: String, rootKeys: String, project: UUID) throws {
        self.url = url
        self.rootKeyLine = rootKeys
        self.project = project
    }

    func start() {
        let thread = Thread { [self] in run() }
        self.thread = thread
        thread.start()
    }

    /// Stops the writer and returns what it did.
    func stop() -> Totals {
        lock.withLock { stopping = true }
        while thread?.isFinished == false { Thread.sleep(forTimeInterval: 0.02) }
        return lock.withLock { totals }
    }

    private func run() {
        do {
            let connection = try PostgresConnection(url)
            let keks = KEKCiphers(connection: connection, rootKeys: RootKeys(keyring: try Keyring.parse(rootKeyLine)))
            var next = 1_000_000
            while !lock.withLock({ stopping }) {
                let insert = Bool.random()
                do {
                    try connection.transaction {
                        if insert {
                            try insertSecret(connection, keks: keks, number: next)
                        } else {
                            try rekeySecret(connection, keks: keks, number: Int.random(in: 0..<20_000))
                        }
                    }
                    lock.withLock { if insert { totals.inserted += 1 } else { totals.rekeyed += 1 } }
                    if insert { next += 1 }
                } catch let error as PostgresError where error.sqlState == .checkViolation || error.isTransient {
                    continue // the active KEK changed under us, or a lock timeout: retry with a fresh view
                }
                Thread.sleep(forTimeInterval: 0.002)
            }
        } catch {
            lock.withLock { totals.errors.append("\(error)") }
        }
    }

    private func insertSecret(_ connection: PostgresConnection, keks: KEKCiphers, number: Int) throws {
        let dek = try DataKeys.create(connection, under: try keks.active())
        let id = UUID()
        try connection.execute(
            "INSERT INTO project_secrets (id, project_id, name, dek_id, ciphertext) VALUES ($1, $2, $3, $4, $5)",
            [id, project, SyntheticSecrets.name(number), dek.dekID,
             try dek.sealSecret(Array(SyntheticSecrets.value(number).utf8), id: id, projectID: project)])
    }

    private func rekeySecret(_ connection: PostgresConnection, keks: KEKCiphers, number: Int) throws {
        guard let row = try connection.query(
            "SELECT id, dek_id FROM project_secrets WHERE project_id = $1 AND name = $2 FOR UPDATE",
            [project, SyntheticSecrets.name(number)]).first else { return }
        let id: UUID = try row.decode(0)
        let oldDEK: Int64 = try row.decode(1)
        let dek = try DataKeys.create(connection, under: try keks.active())
        try connection.execute("UPDATE project_secrets SET dek_id = $2, ciphertext = $3 WHERE id = $1",
                               [id, dek.dekID, try dek.sealSecret(Array(SyntheticSecrets.value(number).utf8), id: id, projectID: project)])
        try connection.execute("DELETE FROM data_keys WHERE id = $1", [oldDEK])
    }
}
