import EnvelopeCrypto
import Foundation
import JobQueue
import KeyWrapping
import PostgresClient

/// Whether this worker process can run key jobs: its keyring (from the environment) loads,
/// matches the recorded root key identities, and opens every KEK in use.
///
/// Why a gate and not a retry: a worker with no keys or the wrong keys that claims a rewrap
/// part can only fail it, burning attempts and pushing the part into back-offs that slow the
/// healthy workers down. Gated, it claims nothing of the key kinds and says why, once.
public enum KeyReadiness {
    /// The gate name; the metric is `kek_worker_key_ready`.
    public static let gateName = "key"

    /// The gate over `kinds`, checked with the keyring of this process's environment.
    static func gate(kinds: [String], actor: String) -> JobKindGate {
        JobKindGate(name: gateName, kinds: kinds) { connection in try reason(connection, actor: actor) }
    }

    /// nil when this process can run key jobs; otherwise what is wrong and what to do.
    /// A keyring that holds a recorded id with another key is a reason too (the gate stays
    /// closed); `kek worker` refuses to start on it before this ever runs.
    public static func reason(_ connection: PostgresConnection, actor: String,
                              environment: [String: String]? = nil) throws -> String? {
        let rootKeys: RootKeys
        do {
            rootKeys = try RootKeys.fromEnvironment(environment ?? ProcessInfo.processInfo.environment)
        } catch let error as KeyringError {
            return "\(error)"
        }
        do {
            let failures = try KeyringProof.unopenable(connection, rootKeys, actor: actor)
            return failures.isEmpty ? nil : UnopenableKEK.summary(failures)
        } catch let error as KeyManagementError {
            return error.description
        }
    }

    /// What `kek worker` checks at start: throws when the keyring is malformed or holds a
    /// recorded root key id with another key (the process must not run); returns the key
    /// file's permission warning, if any. No keyring at all is not an error.
    public static func startupRefusal(_ connection: PostgresConnection) throws -> String? {
        let rootKeys: RootKeys
        do {
            rootKeys = try RootKeys.fromEnvironment()
        } catch KeyringError.notConfigured {
            return nil
        }
        try RootKeyIdentities.verify(connection, rootKeys)
        return rootKeys.warning
    }

    /// `error` as a hand-back when it says this keyring cannot do the job (another may);
    /// nil for every other error, which is retried or fails as usual.
    static func notRunnableHere(_ error: any Error) -> JobNotRunnableHere? {
        switch error {
        case let error as KeyringError:
            return JobNotRunnableHere("\(error)")
        case let error as KeyManagementError:
            switch error {
            case .rootKeyMissing, .rootKeyMismatch, .keyringUnproven, .rootKeyUnknown, .rootKeyUnavailable:
                return JobNotRunnableHere(error.description)
            default: return nil
            }
        case let error as KeyWrappingError:
            if case .kek = error.subject, error.operation == .unwrap { return JobNotRunnableHere(error.description) }
            return nil
        default:
            return nil
        }
    }
}

/// A key job handler whose "this keyring cannot" errors become hand-backs (no attempt counted).
struct KeyGatedHandler<Inner: JobHandler>: JobHandler {
    let inner: Inner

    func run(_ context: JobContext, _ arguments: Inner.Arguments, _ checkpoint: Inner.Checkpoint?) throws -> JobOutcome {
        do {
            return try inner.run(context, arguments, checkpoint)
        } catch {
            throw KeyReadiness.notRunnableHere(error) ?? error
        }
    }
}
