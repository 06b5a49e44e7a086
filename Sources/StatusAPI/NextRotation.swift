import Foundation
import JobQueue
import KeyManagement

/// When the next scheduled rotation is due, from the schedules the process loaded.
///
/// Only the process's own view: schedules live in files (`jobs/*.json`) that this process
/// may not have loaded, so "unknown" is a real answer and is reported as such.
public enum NextRotation {
    /// The answer with the reason it is what it is.
    public struct Estimate: Sendable, Equatable {
        public var dueAt: Date?
        public var schedule: String?
        public var basis: String
    }

    /// The earliest due time over the rotation schedules.
    ///
    /// - `when: {"active_kek_older_than": D}`: the active KEK's activation + D (now when there
    ///   is no active KEK); the worker checks every `check_every`, so it starts up to that much later.
    /// - `every: D`: the schedule's last occurrence + D (now when it never ran).
    /// Other conditions cannot be predicted and are skipped.
    public static func estimate(schedules: [JobSchedule], activeKEKActivatedAt: Date?, lastOccurrences: [String: Date],
                                now: Date) -> Estimate {
        var best: Estimate?
        var skipped: [String] = []
        for schedule in schedules where schedule.kind == KeyJobKinds.rotation {
            let candidate: Estimate
            switch schedule.trigger {
            case .when(let condition, let argument, let checkEvery):
                guard let seconds = KEKAge.ageLimit(condition: condition, argument: argument) else {
                    skipped.append(schedule.name)
                    continue
                }
                if let activated = activeKEKActivatedAt {
                    candidate = Estimate(
                        dueAt: activated.addingTimeInterval(seconds), schedule: schedule.name,
                        basis: "schedule \(schedule.name): active KEK activation + \(argument), checked every \(Int(checkEvery))s")
                } else {
                    candidate = Estimate(dueAt: now, schedule: schedule.name,
                                         basis: "schedule \(schedule.name): no active KEK, due at the next check")
                }
            case .every(let interval):
                let last = lastOccurrences[schedule.name]
                candidate = Estimate(
                    dueAt: last.map { $0.addingTimeInterval(interval) } ?? now, schedule: schedule.name,
                    basis: last == nil ? "schedule \(schedule.name): never ran, due at the next check"
                        : "schedule \(schedule.name): last occurrence + \(Int(interval))s")
            }
            if let current = best, let currentDue = current.dueAt, let due = candidate.dueAt, currentDue <= due { continue }
            best = candidate
        }
        if let best { return best }
        if !skipped.isEmpty {
            return Estimate(dueAt: nil, schedule: nil,
                            basis: "unknown: rotation schedules \(skipped.joined(separator: ", ")) use conditions this report cannot predict")
        }
        return Estimate(dueAt: nil, schedule: nil, basis: "unknown: this process loaded no rotation schedule (--schedule-dir or KEK_SCHEDULE_DIR)")
    }

    /// Names of the `every` rotation schedules, whose last occurrence the estimate needs.
    static func intervalScheduleNames(_ schedules: [JobSchedule]) -> [String] {
        schedules.filter {
            guard $0.kind == KeyJobKinds.rotation, case .every = $0.trigger else { return false }
            return true
        }.map(\.name)
    }
}
