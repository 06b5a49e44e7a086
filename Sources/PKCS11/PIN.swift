#if canImport(Glibc)
import Glibc
#endif

/// A token PIN in memory this type owns and wipes on release.
///
/// Why not a `String`: strings are copied freely and never wiped, and a string is one
/// interpolation away from a log line. A `PIN` has no way to print its bytes: its
/// `description` is a fixed text, and it is only lent to `C_Login`.
public final class PIN {
    private let storage: UnsafeMutableRawBufferPointer
    /// Longest PIN accepted; tokens allow far fewer, this only bounds the read.
    public static let maximumLength = 256

    private init(copying bytes: UnsafeRawBufferPointer) {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        storage.copyMemory(from: bytes)
        count = bytes.count
    }

    /// Number of PIN bytes.
    public let count: Int

    deinit {
        wipe(storage)
        storage.deallocate()
    }

    /// Lends the PIN bytes to `body` (for `C_Login`); do not copy them out.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// The PIN from `file` when given (trailing newline removed), else from `environment[variable]`.
    /// Errors name the file or the variable, never what they hold.
    public static func load(file: String?, environment: [String: String], variable: String) throws -> PIN {
        if let file { return try read(file) }
        guard var text = environment[variable], !text.isEmpty else {
            throw PKCS11Error.pinUnavailable(reason: "the URI has no pin-source=file:<path> and \(variable) is not set")
        }
        return text.withUTF8 { PIN(copying: UnsafeRawBufferPointer($0)) }
    }

    private static func read(_ path: String) throws -> PIN {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PKCS11Error.pinUnavailable(reason: "cannot read PIN file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumLength + 1, alignment: 1)
        defer {
            wipe(buffer)
            buffer.deallocate()
        }
        var used = 0
        while used < buffer.count {
            let n = Glibc.read(fd, buffer.baseAddress! + used, buffer.count - used)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw PKCS11Error.pinUnavailable(reason: "cannot read PIN file \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            used += n
        }
        guard used <= maximumLength else { throw PKCS11Error.pinUnavailable(reason: "PIN file \(path) is longer than \(maximumLength) bytes") }
        while used > 0, buffer[used - 1] == UInt8(ascii: "\n") || buffer[used - 1] == UInt8(ascii: "\r") { used -= 1 }
        guard used > 0 else { throw PKCS11Error.pinUnavailable(reason: "PIN file \(path) is empty") }
        return PIN(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
    }
}

extension PIN: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "PIN(redacted)" }
    public var debugDescription: String { description }
}

/// Zeroes `buffer` through `explicit_bzero`, which the compiler may not optimise away.
func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    explicit_bzero(base, buffer.count)
}
