import Foundation
import JobQueue

/// The documented bounds of the knobs an operator passes to rotation and re-encryption
/// jobs, checked by the CLI, by the HTTP endpoint and again by the handler, so that no path
/// can start a job that sleeps forever (`max_rate` 1e-300) or scans for minutes while
/// holding locks (`batch_size` 2^63).
public enum JobArgumentBounds {
    /// DEKs per batch transaction.
    public static let batchSize: ClosedRange<Int> = 1...50_000
    /// Parts a rotation is split into.
    public static let parts: ClosedRange<Int> = 1...1_024
    /// Rows per second; a cap must be a finite number in this range.
    public static let maxRate: ClosedRange<Double> = 1...10_000_000
    /// Seconds a re-encryption's final pass waits for rows other transactions hold.
    public static let lockWaitSeconds: ClosedRange<Double> = 0...3_600

    /// The batch size to use under a rate cap: 25 ms of the cap (at least 100 rows), and never
    /// more than a quarter second of it, so that one batch (the throttle's only burst) stays well
    /// inside the cap's 15% tolerance over 5 s. Short bursts are for the applications beside the
    /// rotation: a throttled rotation runs at full speed during a batch and not at all between
    /// them, and an application's insert that meets a batch is the one that waits (sampled beside
    /// `kek bench` at 1M DEKs: the slowest 5% of inserts met a batch 82-84% of the time, the fastest
    /// half 22-32%). Issue #19's note has the measurements.
    public static func throttledBatchSize(_ batchSize: Int, maxRate: Double?) -> Int {
        guard let maxRate else { return batchSize }
        let burst = max(throttledBatchFloor, Int(maxRate * throttledBurstSeconds))
        return max(1, min(batchSize, burst, Int(maxRate / 4)))
    }

    /// Seconds of the cap one throttled batch holds.
    static let throttledBurstSeconds = 0.025
    /// Rows below which a batch's fixed cost (its round trips, its checkpoint) would outweigh a shorter burst.
    static let throttledBatchFloor = 100

    /// Checks each value that is present; the error names the field and its bounds.
    public static func check(batchSize: Int? = nil, parts: Int? = nil, maxRate: Double? = nil,
                             lockWaitSeconds: Double? = nil) throws {
        if let batchSize, !Self.batchSize.contains(batchSize) {
            throw InvalidJobArguments("batch_size must be a whole number from \(Self.batchSize.lowerBound) to "
                                      + "\(Self.batchSize.upperBound), got \(batchSize)")
        }
        if let parts, !Self.parts.contains(parts) {
            throw InvalidJobArguments("parts must be a whole number from \(Self.parts.lowerBound) to \(Self.parts.upperBound), got \(parts)")
        }
        if let maxRate, !(maxRate.isFinite && Self.maxRate.contains(maxRate)) {
            throw InvalidJobArguments("max_rate must be a number of rows per second from \(Int(Self.maxRate.lowerBound)) to "
                                      + "\(Int(Self.maxRate.upperBound)), got \(maxRate)")
        }
        if let lockWaitSeconds, !(lockWaitSeconds.isFinite && Self.lockWaitSeconds.contains(lockWaitSeconds)) {
            throw InvalidJobArguments("lock_wait_seconds must be from 0 to \(Int(Self.lockWaitSeconds.upperBound)), got \(lockWaitSeconds)")
        }
    }
}

/// Job arguments outside their documented bounds: a usage error at the CLI, 400 over HTTP,
/// a permanent failure in a worker (no retry can fix them).
public struct InvalidJobArguments: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension KeyedDecodingContainer {
    /// An optional field that may be absent but not `null`: a client that sends
    /// `"max_rate": null` meant something, and silently reading it as "no cap" would be wrong.
    func decodeAbsentOrValue<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            let name = key.stringValue.reduce(into: "") { text, character in
                text += character.isUppercase ? "_" + character.lowercased() : String(character)
            }
            throw InvalidJobArguments("\(name) must be a value or left out, not null")
        }
        return try decode(T.self, forKey: key)
    }
}

/// Key-domain refusals that no retry can fix (a KEK that does not exist, no active KEK, a
/// wrap budget too small, a KEK in the wrong state), turned into `PermanentJobError` so the
/// job fails at its first attempt instead of retrying for hours.
enum PermanentRefusal {
    static func convert<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KeyManagementError {
            switch error {
            case .kekNotFound, .noActiveKEK, .wrapBudgetTooSmall, .wrongState, .kekUnreadable:
                throw PermanentJobError(error.description)
            default:
                throw error
            }
        }
    }
}
