import EnvelopeCrypto
import Foundation
import PostgresClient
import ThrowawayPostgres

/// Where the demo and the benchmark run: a throwaway PostgreSQL unless `DATABASE_URL` is set, and an
/// ephemeral root key unless `KEK_ROOT_KEYS`/`KEK_ROOT_KEYS_FILE` is set.
struct ScratchEnvironment {
    let url: String
    let cluster: ThrowawayPostgres?
    /// Set when the demo made its own root key; kept in a 0600 file of a private directory, never printed.
    let ephemeralRootKeyFile: String?

    static func prepare(keep: Bool, serverSettings: [String] = []) throws -> ScratchEnvironment {
        let cluster: ThrowawayPostgres?
        let url: String
        if let given = Database.url {
            Terminal.note("using DATABASE_URL (use an empty database: the demo adds keys and secrets to it)")
            cluster = nil
            url = given
        } else {
            Terminal.note("starting a throwaway PostgreSQL (initdb + pg_ctl, private socket)...")
            let started = try ThrowawayPostgres(watchdog: !keep, settings: serverSettings)
            cluster = started
            url = started.connectionString
        }
        let environment = ProcessInfo.processInfo.environment
        guard environment["KEK_ROOT_KEYS"] == nil, environment["KEK_ROOT_KEYS_FILE"] == nil else {
            return ScratchEnvironment(url: url, cluster: cluster, ephemeralRootKeyFile: nil)
        }
        let path = try SecretFile.privateDirectory(prefix: "kek-demo-root-key") + "/root-keys"
        var key = try randomBytes(count: 32)
        defer { secureZero(&key) }
        var line = Array("demo:".utf8) + Array(Data(key).base64EncodedString().utf8)
        defer { secureZero(&line) }
        try SecretFile.create(path, bytes: line)
        setenv("KEK_ROOT_KEYS_FILE", path, 1)
        Terminal.note("""

            ************************************************************************
            *  EPHEMERAL ROOT KEY: kek made its own root key for this run, only in *
            *  \(path.padding(toLength: 66, withPad: " ", startingAt: 0))  *
            *  Everything it encrypts is unreadable once that file is gone.        *
            *  Real deployments set KEK_ROOT_KEYS (see 'kek keygen').              *
            ************************************************************************

            """)
        return ScratchEnvironment(url: url, cluster: cluster, ephemeralRootKeyFile: path)
    }

    func finish(keep: Bool) {
        if keep {
            // Full paths: kek is not on PATH until installed (README, "Install"), and the
            // server belongs to the postgres user when the demo ran as root.
            let kek = Database.executablePath()
            print("\nthe database is still running; in this shell:")
            print("  export DATABASE_URL=\"\(url)\"")
            if let ephemeralRootKeyFile { print("  export KEK_ROOT_KEYS_FILE=\(ephemeralRootKeyFile)") }
            print("then try:")
            for command in ["keys list", "status", "rotate --plan", "projects list", "audit verify",
                            "worker --status-listen localhost:0    # Ctrl-C stops it"] {
                print("  \(kek) \(command)")
            }
            // The ephemeral root key goes with the cluster: left behind it would be a key file
            // nobody remembers, for data that no longer exists.
            let keyFolder = ephemeralRootKeyFile.map { ($0 as NSString).deletingLastPathComponent }
            let cleanup = [cluster?.stopCommand, keyFolder.map { "rm -rf \($0)" }].compactMap { $0 }
            if !cleanup.isEmpty { print("stop it with:\n  \(cleanup.joined(separator: " && "))") }
            return
        }
        if let ephemeralRootKeyFile { SecretFile.remove(ephemeralRootKeyFile) }
        cluster?.stop()
    }
}
