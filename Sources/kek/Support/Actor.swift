import Foundation

/// Who audit rows name for commands run by hand: the OS user and host.
enum Actor {
    static var current: String {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "uid\(getuid())"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}
