import Foundation
import PostgresClient

/// Per-batch transaction limits, applied transaction-locally (`set_config(..., true)`) at
/// the start of every batch, so they end with it (and never reach a pooler's next client).
///
/// Batches are short by construction: a batch that waits on a lock, runs a runaway
/// statement or sits idle holding its transaction open is cut off by the server, instead
/// of pinning the xmin horizon (the classic cause of queue bloat) or holding row locks.
public struct BatchLimits: Sendable, Equatable {
    public var lockTimeout: Double
    public var statementTimeout: Double
    /// Idle time inside a batch transaction before the server ends the session; a worker
    /// frozen mid-batch (SIGSTOP, a debugger) thus releases its locks.
    public var idleInTransactionTimeout: Double

    public init(lockTimeout: Double = 5, statementTimeout: Double = 60, idleInTransactionTimeout: Double = 30) {
        self.lockTimeout = lockTimeout
        self.statementTimeout = statementTimeout
        self.idleInTransactionTimeout = idleInTransactionTimeout
    }

    static func milliseconds(_ seconds: Double) -> String { String(Int((seconds * 1000).rounded(.up))) }

    /// The limits as the settings `PostgresConnection.transaction(settings:)` applies.
    var transactionSettings: [String: String] {
        ["lock_timeout": Self.milliseconds(lockTimeout), "statement_timeout": Self.milliseconds(statementTimeout),
         "idle_in_transaction_session_timeout": Self.milliseconds(idleInTransactionTimeout)]
    }
}
