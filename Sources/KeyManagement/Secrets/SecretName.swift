/// The names and sizes a stored secret may have.
///
/// Names follow the portable environment-variable rule `[A-Za-z_][A-Za-z0-9_]*` (POSIX
/// shells; Doppler and others apply the same), so every stored secret can be exported back
/// into an environment unchanged.
public enum SecretName {
    /// Largest value accepted, in bytes: far above any API key or PEM certificate chain,
    /// small enough that a mistaken file (a binary, a dump) is refused rather than stored.
    public static let maxValueBytes = 64 * 1024

    /// Longest name accepted.
    public static let maxNameLength = 255

    /// Why `name` is not acceptable, or nil when it is.
    ///
    /// The message gives the length and the position of the first bad character, never a
    /// character: an invalid "name" is often part of a value or a key (a keyring line
    /// `root-a:<base64>=` read as a dotenv line has its whole key before the `=`).
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "empty name" }
        let utf8 = Array(name.utf8)
        if utf8.count > maxNameLength { return "invalid name of \(utf8.count) bytes: longer than \(maxNameLength)" }
        if !(isLetter(utf8[0]) || utf8[0] == UInt8(ascii: "_")) {
            return "invalid name of \(utf8.count) bytes: it must start with A-Z, a-z or _"
        }
        if let bad = utf8.firstIndex(where: { !(isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_")) }) {
            return "invalid name of \(utf8.count) bytes: byte \(bad + 1) is not A-Z, a-z, 0-9 or _"
        }
        return nil
    }

    /// `name` when it is valid, else nil: the only form of a name that may reach a message.
    public static func validated(_ name: String?) -> String? {
        guard let name, problem(name) == nil else { return nil }
        return name
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
