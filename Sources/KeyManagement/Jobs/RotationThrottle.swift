import JobQueue

/// A batch under a job family's `max_rate` (`JobContext.throttle`): reserves `units` before
/// the batch, so the family's parts and its final pass share one cap, and gives back what
/// the batch did not use, so a pass over rows that are mostly gone is not slowed for nothing.
enum RotationThrottle {
    static func batch<T>(_ context: JobContext, units: Int, maxRate: Double?, _ work: () throws -> T,
                         moved: (T) -> Int) throws -> T {
        guard let maxRate else { return try work() }
        try context.throttle(units: units, ratePerSecond: maxRate)
        let value = try work()
        let unused = units - moved(value)
        if unused > 0 { try context.throttle(units: -unused, ratePerSecond: maxRate) }
        return value
    }
}
