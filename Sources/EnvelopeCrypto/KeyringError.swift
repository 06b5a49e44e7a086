/// Why a key list could not be loaded.
///
/// Entries are named by position (1-based) and, once it is known to be well-formed, by id; never by
/// the key text, because these messages are printed at start-up and end up in logs.
public enum KeyringError: Error, Equatable, Sendable {
    /// No entries at all (empty or whitespace-only text).
    case emptyList
    /// An entry between commas is empty (for example `a:...,,b:...` or a trailing comma).
    case emptyEntry(position: Int)
    /// An entry has no `:` between id and key.
    case missingSeparator(position: Int)
    /// The id before `:` is empty.
    case emptyID(position: Int)
    /// The id has characters outside `[A-Za-z0-9._-]` or is longer than `Keyring.maximumIDLength`.
    /// The id itself is not shown: a malformed id may be a misplaced key.
    case invalidID(position: Int, length: Int)
    /// The key text (of `length` characters, never shown) is not standard, padded base64.
    case invalidBase64(position: Int, id: String, length: Int)
    /// The key decodes to the wrong number of bytes.
    case wrongKeyLength(position: Int, id: String, length: Int)
    /// Two entries share an id, so lookups by id would be ambiguous.
    case duplicateID(position: Int, id: String, firstPosition: Int)
    /// Neither of the two environment variables is set.
    case notConfigured(variable: String, fileVariable: String)
    /// Both environment variables are set, so it is unclear which one is meant.
    case ambiguousConfiguration(variable: String, fileVariable: String)
    /// The key file could not be read.
    case unreadableFile(path: String, reason: String)
}

extension KeyringError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .emptyList:
            return "key list is empty: expected <id>:<base64 of 32 bytes>[,<id>:<base64>...]"
        case let .emptyEntry(position):
            return "key list entry \(position) is empty (stray comma?)"
        case let .missingSeparator(position):
            return "key list entry \(position) has no ':' between id and key (expected <id>:<base64>)"
        case let .emptyID(position):
            return "key list entry \(position) has an empty id before ':'"
        case let .invalidID(position, length):
            return "key list entry \(position) has an invalid id (\(length) characters): ids use only "
                + "A-Z a-z 0-9 . _ - and are at most \(Keyring.maximumIDLength) characters"
        case let .invalidBase64(position, id, length):
            return "key list entry \(position) (id \"\(id)\"): key of \(length) characters is not valid base64 "
                + "(standard alphabet with '=' padding, e.g. from `openssl rand -base64 32`)"
        case let .wrongKeyLength(position, id, length):
            return "key list entry \(position) (id \"\(id)\"): key decodes to \(length) bytes, "
                + "\(SymmetricKey.byteCount) are required"
        case let .duplicateID(position, id, firstPosition):
            return "key list entry \(position) repeats id \"\(id)\" of entry \(firstPosition)"
        case let .notConfigured(variable, fileVariable):
            return "no keys configured: set \(variable) or \(fileVariable)"
        case let .ambiguousConfiguration(variable, fileVariable):
            return "both \(variable) and \(fileVariable) are set: set only one"
        case let .unreadableFile(path, reason):
            return "cannot read key file \(path): \(reason)"
        }
    }
}
