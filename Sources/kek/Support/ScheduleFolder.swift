import Foundation
import JobQueue

/// The schedule files a process loads: `--schedule-dir DIR`, else `KEK_SCHEDULE_DIR`, else none.
/// Never the working directory's `./jobs` by itself: from a checkout that would run the
/// examples, and under systemd (working directory `/`) silently nothing.
/// Shared by `kek worker` (which runs them) and `kek serve`/`kek status` (the next rotation).
enum ScheduleFolder {
    static func load(_ arguments: ParsedArguments) throws -> [JobSchedule] {
        if arguments.flag("no-schedules") { return [] }
        return try load(folder: arguments.string("schedule-dir"))
    }

    /// `folder` (`--schedule-dir`), else `KEK_SCHEDULE_DIR`, else none.
    static func load(folder given: String?) throws -> [JobSchedule] {
        let fromEnvironment = ProcessInfo.processInfo.environment["KEK_SCHEDULE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        guard let folder = given ?? fromEnvironment else { return [] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure("schedule folder '\(folder)' does not exist")
        }
        return try JobSchedule.load(directory: folder)
    }
}
