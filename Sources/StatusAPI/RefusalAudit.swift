import Foundation
import KeyManagement

/// Records refused requests (`status.unauthorized`) in the audit log, at a bounded rate.
///
/// Every refusal is counted, but at most `limit` rows are written per window; the next row
/// written carries how many were left out. Without the bound, anyone who can reach the port
/// could grow the append-only audit log without limit. The row holds the method, the path
/// and the reason (missing, malformed, wrong), never the presented token. The server does
/// not expose the peer address to handlers, so the row cannot name it.
final class RefusalAudit: @unchecked Sendable {
    private let database: SharedConnection
    private let actor: String
    private let limit: Int
    private let window: TimeInterval
    private let lock = NSLock()
    private var windowStart = Date.distantPast
    private var written = 0
    private var suppressed = 0

    init(database: SharedConnection, actor: String, limit: Int = 10, window: TimeInterval = 60) {
        self.database = database
        self.actor = actor
        self.limit = limit
        self.window = window
    }

    func record(method: String, path: String, refusal: BearerToken.Refusal) {
        guard let left = admit() else { return }
        var details: [String: AuditValue] = ["method": .text(method), "reason": .text(refusal.rawValue)]
        if left > 0 { details["suppressed_before"] = .int(Int64(left)) }
        do {
            try database.with { db in
                try AuditLog.append(db, actor: actor, action: .statusUnauthorized, target: path, details: details)
            }
        } catch {
            FileHandle.standardError.write(Data("kek status: could not write the audit row of a refused request: \(error)\n".utf8))
        }
    }

    /// Nil when this refusal is over the limit; else how many were suppressed before it.
    private func admit() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if now.timeIntervalSince(windowStart) >= window {
            windowStart = now
            written = 0
        }
        guard written < limit else {
            suppressed += 1
            return nil
        }
        written += 1
        let left = suppressed
        suppressed = 0
        return left
    }
}
