import Foundation

/// When to try a failed attempt again: exponential backoff with jitter, capped.
///
/// Attempt n waits a random time in [d/2, d] where d = min(base * 2^(n-1), maximum).
/// The jitter spreads retries of many jobs that failed together (a database restart)
/// so they do not all come back in the same second.
public struct RetryPolicy: Sendable, Equatable {
    public var base: TimeInterval
    public var maximum: TimeInterval

    public init(base: TimeInterval = 15, maximum: TimeInterval = 3600) {
        self.base = base
        self.maximum = maximum
    }

    /// The delay before retrying after failed attempt `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> TimeInterval {
        let exponent = Double(max(0, min(attempt - 1, 40)))
        let ceiling = min(base * pow(2, exponent), maximum)
        return ceiling / 2 + ceiling / 2 * random
    }
}
