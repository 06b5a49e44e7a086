#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An ordered set of named keys: the first is active (used to seal), the others may only open.
///
/// Why a list: a key is rotated by putting a new key first and keeping the old one behind it until
/// nothing sealed under it remains. The text form is `<id>:<base64 of 32 bytes>,...`.
///
/// An entry may instead name a key held elsewhere: `<id>:pkcs11:token=...;object=...?...`
/// (a PKCS#11 URI, RFC 7512, with any comma in it written `%2C`). Such an entry is kept as
/// text here, as a `reference`; the caller resolves it (this layer loads no modules).
public struct Keyring: Sendable {
    /// Longest id accepted, so an id can never be a misplaced key (base64 of 32 bytes is 44).
    public static let maximumIDLength = 40
    /// Largest key file read; a real one is a few hundred bytes.
    public static let maximumFileSize = 1 << 20

    /// Ids in the order given; the first is the active one.
    public let ids: [String]
    private let keys: [String: SymmetricKey]
    private let references: [String: String]

    /// What the text before a reference entry's URI starts with.
    public static let referencePrefix = "pkcs11:"

    /// The id of the key new envelopes are sealed with.
    public var activeID: String { ids[0] }
    /// The key new envelopes are sealed with, or nil when the active entry is a reference.
    public var active: SymmetricKey? { keys[ids[0]] }

    /// The key named `id`, or nil when this keyring does not hold its bytes (absent, or a reference).
    public func key(id: String) -> SymmetricKey? { keys[id] }

    /// Whether the keyring has an entry `id` (key bytes or a reference).
    public func contains(id: String) -> Bool { keys[id] != nil || references[id] != nil }

    /// The URI of entry `id` when it names a key held elsewhere (a PKCS#11 URI), else nil.
    public func reference(id: String) -> String? { references[id] }

    /// Parses `<id>:<base64>,<id>:<base64>,...`. Spaces, tabs and newlines around entries, ids and
    /// keys are ignored, so a file may hold one entry per line and end with a newline.
    ///
    /// The key text stays in `text`, which Swift cannot wipe; the decoded keys go straight into
    /// `SymmetricKey` memory. `load(contentsOfFile:)` wipes the bytes it read.
    public static func parse(_ text: String) throws -> Keyring {
        var text = text
        return try text.withUTF8 { try parse(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Loads keys from the environment variable `variable` or from the file named by
    /// `fileVariable` (exactly one must be set). The variable names come from the caller.
    ///
    /// Returns a warning to print when the file is accessible by group or others: the keys still
    /// load, so a permission slip does not stop a deployment, but an operator should fix it.
    public static func fromEnvironment(
        _ environment: [String: String],
        variable: String,
        fileVariable: String
    ) throws -> (keyring: Keyring, warning: String?) {
        let inline = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        let path = environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (inline, path) {
        case let (text?, nil):
            return (try parse(text), nil)
        case let (nil, path?):
            return try load(contentsOfFile: path)
        case (.some, .some):
            throw KeyringError.ambiguousConfiguration(variable: variable, fileVariable: fileVariable)
        case (nil, nil):
            throw KeyringError.notConfigured(variable: variable, fileVariable: fileVariable)
        }
    }

    /// Loads keys from a file and wipes the bytes read; see `fromEnvironment` for the warning.
    public static func load(contentsOfFile path: String) throws -> (keyring: Keyring, warning: String?) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KeyringError.unreadableFile(path: path, reason: errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw KeyringError.unreadableFile(path: path, reason: errnoText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw KeyringError.unreadableFile(path: path, reason: "not a regular file")
        }
        guard Int(info.st_size) <= maximumFileSize else {
            throw KeyringError.unreadableFile(path: path, reason: "larger than \(maximumFileSize) bytes")
        }
        let mode = Int(info.st_mode) & 0o777
        let warning: String? = mode & 0o077 == 0 ? nil
            : "key file \(path) is accessible by group or others (mode \(String(mode, radix: 8))); run chmod 600 on it"

        let capacity = Int(info.st_size) + 1
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer {
            secureZero(buffer)
            buffer.deallocate()
        }
        var used = 0
        while used < capacity {
            let n = read(fd, buffer.baseAddress! + used, capacity - used)
            if n < 0 {
                if errno == EINTR { continue }
                throw KeyringError.unreadableFile(path: path, reason: errnoText())
            }
            if n == 0 { break }
            used += n
        }
        guard used < capacity else {
            throw KeyringError.unreadableFile(path: path, reason: "file grew while being read")
        }
        return (try parse(utf8: UnsafeRawBufferPointer(rebasing: buffer[0..<used])), warning)
    }

    static func parse(utf8 text: UnsafeRawBufferPointer) throws -> Keyring {
        let commaSeparated = text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        if commaSeparated.allSatisfy({ trimmed($0).isEmpty }) { throw KeyringError.emptyList }
        // One entry a line (a key file, `kek keygen` output appended) works as well as commas:
        // a line break inside an entry separates entries there, blank lines skipped. Without
        // this, the next line became part of the key and the error spoke of a 100-byte key.
        let entries = commaSeparated.flatMap { entry -> [Slice<UnsafeRawBufferPointer>] in
            let lines = trimmed(entry).split(whereSeparator: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
            return lines.count > 1 ? lines.filter { !trimmed($0).isEmpty } : [entry]
        }
        var ids: [String] = []
        var keys: [String: SymmetricKey] = [:]
        var references: [String: String] = [:]
        var positions: [String: Int] = [:]
        for (offset, rawEntry) in entries.enumerated() {
            let position = offset + 1
            let entry = trimmed(rawEntry)
            guard !entry.isEmpty else { throw KeyringError.emptyEntry(position: position) }
            guard let colon = entry.firstIndex(of: UInt8(ascii: ":")) else {
                throw KeyringError.missingSeparator(position: position)
            }
            let idBytes = trimmed(entry[..<colon])
            guard !idBytes.isEmpty else { throw KeyringError.emptyID(position: position) }
            guard idBytes.count <= maximumIDLength, idBytes.allSatisfy(isIDByte) else {
                throw KeyringError.invalidID(position: position, length: idBytes.count)
            }
            let id = String(decoding: idBytes, as: UTF8.self)
            if let first = positions[id] {
                throw KeyringError.duplicateID(position: position, id: id, firstPosition: first)
            }
            let keyText = UnsafeRawBufferPointer(rebasing: trimmed(entry[(colon + 1)...]))
            if keyText.starts(with: referencePrefix.utf8) {
                references[id] = String(decoding: keyText, as: UTF8.self)
            } else {
                keys[id] = try decodeKey(keyText, position: position, id: id)
            }
            positions[id] = position
            ids.append(id)
        }
        return Keyring(ids: ids, keys: keys, references: references)
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var bytes = bytes
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        return bytes
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\r")
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// Decodes standard padded base64 straight into a key's memory.
    private static func decodeKey(_ text: UnsafeRawBufferPointer, position: Int, id: String) throws -> SymmetricKey {
        guard let length = Base64.decodedLength(text) else {
            throw KeyringError.invalidBase64(position: position, id: id, length: text.count)
        }
        guard length == SymmetricKey.byteCount else {
            throw KeyringError.wrongKeyLength(position: position, id: id, length: length)
        }
        return SymmetricKey { output in Base64.decode(text, into: output) }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

extension Keyring: CustomStringConvertible {
    /// Ids and fingerprints only.
    public var description: String {
        let list = ids.map { "\($0)=\(keys[$0]?.fingerprint ?? "pkcs11")" }.joined(separator: ", ")
        return "Keyring(active: \(activeID), keys: [\(list)])"
    }
}
