import Foundation

/// Who audit rows name for commands run by hand: the operating-system user running `kek`.
///
/// `USER` first (what the operator sees in their shell, and what `sudo` sets), then the
/// password database entry of the real uid, then the bare uid.
enum Actor {
    static var current: String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid:\(getuid())"
    }
}
