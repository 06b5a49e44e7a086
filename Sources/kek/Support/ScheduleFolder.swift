import Foundation
import JobQueue

/// The schedule files a process loads: `--schedule-dir`, else `./jobs` when it exists.
/// Shared by `kek worker` (which runs them) and `kek serve` (which reports the next rotation).
enum ScheduleFolder {
    static func load(_ arguments: ParsedArguments) throws -> [JobSchedule] {
        if arguments.flag("no-schedules") { return [] }
        let explicit = arguments.string("schedule-dir")
        let folder = explicit ?? "jobs"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue {
            return try JobSchedule.load(directory: folder)
        }
        if explicit != nil { throw CommandFailure("schedule folder '\(folder)' does not exist") }
        return []
    }
}
