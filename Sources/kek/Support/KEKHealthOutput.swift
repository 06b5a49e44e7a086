import EnvelopeCrypto
import Foundation
import KeyManagement
import PostgresClient

/// The "a KEK in use may not open" lines of `kek status`, `kek keys list` and `kek verify`.
enum KEKHealthOutput {
    /// Prints each finding as a `WARNING:` line: on stdout beside a table, on stderr when
    /// stdout carries JSON. Uses the keyring of the environment when there is one.
    static func report(_ connection: PostgresConnection, rootKeys: RootKeys? = environmentRootKeys(), json: Bool) throws {
        for finding in try KEKHealth.findings(connection, rootKeys: rootKeys) {
            if json { Terminal.error("WARNING: \(finding)") } else { print("WARNING: \(finding)") }
        }
    }

    /// The environment's keyring, or nil when none is configured; a malformed one is reported
    /// (these commands read; they do not need keys to run).
    static func environmentRootKeys() -> RootKeys? {
        do {
            return try RootKeys.fromEnvironment()
        } catch KeyringError.notConfigured {
            return nil
        } catch {
            Terminal.error("warning: KEK_ROOT_KEYS not used: \(error)")
            return nil
        }
    }
}
