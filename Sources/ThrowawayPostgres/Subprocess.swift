import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with `posix_spawn` and waits for it with `waitpid`.
///
/// Foundation's `Process` notices a child's exit through a descriptor that the child
/// inherits; `pg_ctl start` leaves a server behind that inherits it too, so
/// `waitUntilExit()` never returns. Spawning directly avoids that, and lets the watchdog
/// start in a session of its own.
enum Subprocess {
    /// Runs `command` with stdin from /dev/null and stdout+stderr into `outputPath`;
    /// returns the exit status (or 128+signal).
    static func run(_ command: [String], outputPath: String, newSession: Bool = false, wait: Bool = true) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else is inherited: the watchdog outlives its parent, and a descriptor it kept
        // (Foundation's exit-notification socket of whoever started `kek`) would keep that
        // parent's `waitUntilExit()` waiting for as long as the watchdog waits for `kek`.
        // (posix_spawn_file_actions_addclosefrom_np is not imported by Glibc; glibc ignores a
        // close action for a descriptor closed meanwhile.)
        for descriptor in inheritedDescriptors() { posix_spawn_file_actions_addclose(&actions, descriptor) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession { posix_spawnattr_setflags(&attributes, 0x80) } // POSIX_SPAWN_SETSID, not imported by Glibc

        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, &attributes, arguments, environ)
        guard spawned == 0 else {
            throw ThrowawayPostgresError("cannot start \(command[0]): \(String(cString: strerror(spawned)))")
        }
        guard wait else { return 0 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ThrowawayPostgresError("waitpid for \(command[0]) failed: errno \(errno)") }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// This process's open descriptors above stderr, from /proc/self/fd.
    private static func inheritedDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }.filter { $0 > 2 }
    }
}
