import Foundation

/// One outage of one long-lived connection, as its loop sees it: so that the loop logs one
/// line when the database goes away and one when it is back, not one per attempt, and
/// waits a little longer between attempts (capped low, so recovery is noticed quickly).
public struct ConnectionOutage: Sendable {
    /// When the first failed attempt of the current outage happened; nil while connected.
    public private(set) var since: Date?
    /// Failed attempts in the current outage.
    public private(set) var attempts = 0
    public let initialDelay: Double
    public let maximumDelay: Double

    public init(initialDelay: Double = 0.25, maximumDelay: Double = 2) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// Records a failed attempt. Returns the back-off before the next one, and whether this
    /// failure started the outage (the one worth a log line).
    public mutating func failed(at now: Date = Date()) -> (delay: Double, started: Bool) {
        let started = since == nil
        if started { since = now }
        attempts += 1
        let delay = min(maximumDelay, initialDelay * pow(2, Double(min(attempts - 1, 16))))
        return (delay, started)
    }

    /// Records a success. Returns how long the outage lasted when this success ended one.
    public mutating func recovered(at now: Date = Date()) -> Double? {
        guard let since else { return nil }
        self.since = nil
        attempts = 0
        return now.timeIntervalSince(since)
    }

    /// True for errors that mean "the database is not reachable right now" (lost
    /// connection, refused connect, server shutting down), as opposed to a refused statement.
    public static func isOutage(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return false }
        if error.kind == .connectionLost || error.kind == .connection { return true }
        guard let state = error.sqlState else { return false }
        // 57P01-57P03: admin/crash shutdown, cannot connect now; 08: connection exceptions.
        return state.code.hasPrefix("57P") || state.code.hasPrefix("08")
    }
}
