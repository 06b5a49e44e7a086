import EnvelopeCrypto
import Foundation

/// Reads secret input (stdin, a file) straight into a `SecretBytes`.
///
/// Why not `Data(contentsOf:)` or `FileHandle.readDataToEndOfFile()`: they hand back a buffer
/// that grows by reallocation and cannot be wiped, leaving partial copies of the value in
/// freed memory. Here one buffer of `limit + 1` bytes is allocated up front, read into with
/// `read(2)`, and wiped whatever happens.
public enum SecretInput {
    /// Reads `path` whole; more than `limit` bytes is an error (nothing is kept).
    public static func read(path: String, limit: Int) throws -> SecretBytes {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SecretStoreError.unreadableInput(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        // A regular file's size bounds the buffer, so a 600 KB env file does not cost a
        // buffer of `limit` bytes; a file that grows meanwhile reads as "changed" below.
        var info = stat()
        let size = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        if let size, size > limit {
            throw SecretStoreError.unreadableInput(path: path, reason: "\(size) bytes, more than \(limit)")
        }
        guard let size else { return try read(fileDescriptor: descriptor, name: path, limit: limit) }
        do {
            return try read(fileDescriptor: descriptor, name: path, limit: size)
        } catch SecretStoreError.unreadableInput(_, let reason) where reason.hasPrefix("more than") {
            throw SecretStoreError.unreadableInput(path: path, reason: "the file grew while it was read")
        }
    }

    /// Reads `fileDescriptor` to its end; more than `limit` bytes is an error.
    public static func read(fileDescriptor: Int32, name: String, limit: Int) throws -> SecretBytes {
        let capacity = limit + 1
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer {
            secureZero(buffer)
            buffer.deallocate()
        }
        var filled = 0
        while filled < capacity {
            let got = Foundation.read(fileDescriptor, buffer.baseAddress! + filled, capacity - filled)
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                throw SecretStoreError.unreadableInput(path: name, reason: String(cString: strerror(errno)))
            }
            filled += got
        }
        guard filled <= limit else {
            throw SecretStoreError.unreadableInput(path: name, reason: "more than \(limit) bytes")
        }
        return SecretBytes(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
    }
}
