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
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "empty name" }
        let utf8 = Array(name.utf8)
        if utf8.count > maxNameLength { return "name longer than \(maxNameLength) bytes" }
        let first = utf8[0]
        guard isLetter(first) || first == UInt8(ascii: "_") else {
            return "invalid name '\(display(name))': must match [A-Za-z_][A-Za-z0-9_]*"
        }
        for byte in utf8 where !(isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_")) {
            return "invalid name '\(display(name))': must match [A-Za-z_][A-Za-z0-9_]*"
        }
        return nil
    }

    /// A name as it may appear in a message: printable ASCII only (others as `?`), at most
    /// 40 characters, so a mangled line cannot smuggle a long value into a report.
    public static func display(_ name: String) -> String {
        let shown = name.unicodeScalars.prefix(40).map { scalar -> Character in
            (0x21...0x7e).contains(scalar.value) ? Character(scalar) : "?"
        }
        return String(shown) + (name.unicodeScalars.count > 40 ? "..." : "")
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
