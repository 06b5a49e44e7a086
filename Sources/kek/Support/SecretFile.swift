import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold a secret (the demo's ephemeral root key, its sample env file): created in
/// a private directory of their own, never in a shared temp directory.
///
/// Why: `createFile` then `chmod` leaves a window where the file is 0644, and a predictable
/// name in /tmp lets another user plant a symlink or a file of their own there first. So the
/// directory comes from `mkdtemp` (0700, unpredictable), and the file from
/// `open(O_CREAT | O_EXCL | O_NOFOLLOW, 0600)`: it is new, ours, and never was readable.
enum SecretFile {
    /// A new 0700 directory under the system temp directory.
    static func privateDirectory(prefix: String) throws -> String {
        var folder = NSTemporaryDirectory()
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        var template = Array((folder + "/\(prefix)-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CommandFailure("cannot create a private directory in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    /// Writes `bytes` to a file that must not exist yet, mode 0600.
    static func create(_ path: String, bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CommandFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
    }

    /// Removes the file and its private directory.
    static func remove(_ path: String) {
        unlink(path)
        rmdir((path as NSString).deletingLastPathComponent)
    }
}
