import Foundation

/// Who the audit rows of a CLI run name: the operating-system user running `kek`.
///
/// `USER` first (what the operator sees in their shell, and what `sudo` sets), then the
/// password database entry of the real uid, then the bare uid.
enum OSActor {
    static var name: String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid:\(getuid())"
    }
}
