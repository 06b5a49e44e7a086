import Foundation
import JobQueue

/// The schedule files a process loads: `--schedule-dir DIR`, else `KEK_SCHEDULE_DIR`, else none.
/// Never the working directory's `./jobs` by itself: from a checkout that would run the
/// examples, and under systemd (working directory `/`) silently nothing.
/// Shared by `kek worker` (which runs them) and `kek serve`/`kek status` (the next rotation).
enum ScheduleFolder {
    /// `folder` (`--schedule-dir`), else `KEK_SCHEDULE_DIR`, else none.
    static func load(folder given: String?) throws -> [JobSchedule] {
        let fromEnvironment = ProcessInfo.processInfo.environment["KEK_SCHEDULE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        guard let folder = given ?? fromEnvironment else { return [] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure("schedule folder '\(folder)' does not exist")
        }
        let schedules = try JobSchedule.load(directory: folder)
        for schedule in schedules { try JobKinds.validate(schedule.request, source: "\(folder)/\(schedule.name).json") }
        return schedules
    }
}

/// `--schedule-dir DIR` and `--no-schedules` of `kek status` and `kek serve`.
struct ScheduleSelection: Sendable {
    var folder: String?
    var none = false

    static let fields: [OptionField<Self>] = [
        .value("schedule-dir", "DIR", "Schedule files, for the next rotation's due time (default: $KEK_SCHEDULE_DIR; none when unset).",
               \.folder, .text),
        .flag("no-schedules", "Load no schedules (the next rotation is reported as unknown).", \.none),
    ]

    func load() throws -> [JobSchedule] { none ? [] : try ScheduleFolder.load(folder: folder) }
}
