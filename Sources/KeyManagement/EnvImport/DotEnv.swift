import EnvelopeCrypto

/// The dotenv dialect `kek import-env` reads, strictly and on bytes. It is python-dotenv's
/// reading (checked case by case by `DotEnvPythonComparisonTests`), except where a file could
/// mean two things: those lines are refused with a message, never read another way in silence.
///
/// - A UTF-8 byte order mark at the start is ignored; LF, CRLF and a lone CR all end a line
///   (also inside quotes: a quoted CRLF is stored as LF, as Python's universal newlines do).
/// - `NAME=value` per line; blank lines and lines starting with `#` are ignored; a leading
///   `export ` is dropped; spaces around the name and the value are trimmed.
/// - Unquoted values end at the line's end; ` # comment` (a `#` after whitespace) is cut off,
///   while a `#` inside a word (`pa#ss`) is kept. A value that *starts* with `#` after a space
///   (`A= #x`) is refused: a shell reads it as empty, python-dotenv as `#x`.
/// - `'single quotes'`: literal except `\\` and `\'`, on one line (python-dotenv lets them
///   span lines: refused here).
/// - `"double quotes"`: may span lines; `\n \t \r \a \b \f \v \" \' \\` are escapes; any other
///   backslash is kept as is (`"C:\dir"` stays `C:\dir`).
/// - After a closing quote only whitespace and a `# comment` may follow.
/// - `${VAR}` anywhere in a value is refused (python-dotenv expands it; kek stores text as
///   written, so the two would store different values). No command substitution.
/// - Names must be `[A-Za-z_][A-Za-z0-9_]*` (python-dotenv also takes `1A`, `A-B`, `'A'`: refused).
/// - A name defined twice is refused (python-dotenv keeps the last).
///
/// Problems never quote the line: a broken line may hold a value.
public enum DotEnv {
    /// One `NAME=value` of the file. The value is still unchecked (size, UTF-8, NUL).
    public struct Entry {
        public var name: String
        public var value: SecretBytes
        /// The line the entry starts on (1-based).
        public var line: Int
    }

    /// A line that could not be read as an entry.
    public struct Problem: Equatable, Sendable {
        public var line: Int
        public var name: String?
        public var reason: String
    }

    public struct Parsed {
        public var entries: [Entry] = []
        public var problems: [Problem] = []
    }

    /// Parses the whole file; every problem is collected, the parse goes on after each one.
    public static func parse(_ bytes: [UInt8]) -> Parsed {
        var parser = Parser(bytes: normalized(bytes))
        defer { secureZero(&parser.bytes) }
        return parser.run()
    }

    /// The text without a leading BOM and with every CRLF and lone CR turned into LF, in a
    /// buffer reserved up front (the caller wipes it).
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == carriageReturn {
                output.append(newline)
                if index < bytes.count && bytes[index] == newline { index += 1 }
            } else {
                output.append(byte)
            }
        }
        return output
    }
}

private let newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
private let hash = UInt8(ascii: "#")
private let equals = UInt8(ascii: "=")
private let singleQuote = UInt8(ascii: "'")
private let doubleQuote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

/// Whether `value` holds `${`, which python-dotenv would expand.
private func hasInterpolation(_ value: [UInt8]) -> Bool {
    value.indices.dropLast().contains { value[$0] == UInt8(ascii: "$") && value[$0 + 1] == UInt8(ascii: "{") }
}

private func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

private struct Parser {
    var bytes: [UInt8]
    var index = 0
    var line = 1
    var result = DotEnv.Parsed()

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atLineEnd: Bool { index >= bytes.count || bytes[index] == newline }

    /// Values are appended into storage reserved up front: growing an array reallocates and
    /// leaves the old, unwiped copy in freed memory.
    func lengthToLineEnd() -> Int {
        var end = index
        while end < bytes.count && bytes[end] != newline { end += 1 }
        return end - index
    }

    mutating func skipBlanks() { while index < bytes.count && isBlank(bytes[index]) { index += 1 } }

    /// Moves past the end of the current line (and its newline).
    mutating func skipLine() {
        while index < bytes.count && bytes[index] != newline { index += 1 }
        if index < bytes.count { index += 1; line += 1 }
    }

    mutating func problem(_ line: Int, _ name: String?, _ reason: String) {
        result.problems.append(DotEnv.Problem(line: line, name: name, reason: reason))
    }

    mutating func run() -> DotEnv.Parsed {
        while index < bytes.count {
            skipBlanks()
            if atLineEnd || bytes[index] == hash { skipLine(); continue }
            if startsWith("export"), index + 6 < bytes.count, isBlank(bytes[index + 6]) {
                index += 6
                skipBlanks()
            }
            entry()
        }
        return result
    }

    func startsWith(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        return index + utf8.count <= bytes.count && Array(bytes[index..<index + utf8.count]) == utf8
    }

    mutating func entry() {
        let start = line
        let nameStart = index
        while !atLineEnd && bytes[index] != equals { index += 1 }
        guard !atLineEnd else {
            problem(start, nil, "no '=' (expected NAME=value)")
            skipLine()
            return
        }
        var nameEnd = index
        while nameEnd > nameStart && isBlank(bytes[nameEnd - 1]) { nameEnd -= 1 }
        let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
        index += 1  // '='
        let blanksBefore = index
        skipBlanks()
        var value: [UInt8] = []
        let complete: Bool
        if index < bytes.count && bytes[index] == doubleQuote {
            complete = doubleQuoted(into: &value, name: name, start: start)
        } else if index < bytes.count && bytes[index] == singleQuote {
            complete = singleQuoted(into: &value, name: name, start: start)
        } else {
            complete = unquoted(into: &value, afterBlank: index > blanksBefore, name: name, start: start)
        }
        if complete && hasInterpolation(value) {
            secureZero(&value)
            problem(start, name, "value contains '${': python-dotenv and others expand it, kek stores text as written; "
                        + "store such a value with 'kek secrets put'")
        } else if complete {
            result.entries.append(DotEnv.Entry(name: name, value: SecretBytes(value), line: start))
        } else {
            secureZero(&value)
        }
    }

    /// Reads to the line's end, cutting a ` # comment`, trimming trailing blanks.
    mutating func unquoted(into value: inout [UInt8], afterBlank: Bool, name: String, start: Int) -> Bool {
        if afterBlank && index < bytes.count && bytes[index] == hash {
            problem(start, name, "unquoted value starts with '#' after a space: a shell reads it as empty, python-dotenv "
                        + "as text; quote the value or remove the comment")
            skipLine()
            return false
        }
        value.reserveCapacity(lengthToLineEnd())
        var previousBlank = afterBlank
        while !atLineEnd {
            let byte = bytes[index]
            if byte == hash && previousBlank { break }
            value.append(byte)
            previousBlank = isBlank(byte)
            index += 1
        }
        while let last = value.last, isBlank(last) { value.removeLast() }
        skipLine()
        return true
    }

    mutating func singleQuoted(into value: inout [UInt8], name: String, start: Int) -> Bool {
        index += 1
        value.reserveCapacity(lengthToLineEnd())
        while !atLineEnd && bytes[index] != singleQuote {
            // python-dotenv reads \\ and \' inside single quotes as escapes.
            if bytes[index] == backslash, index + 1 < bytes.count, bytes[index + 1] == backslash || bytes[index + 1] == singleQuote {
                index += 1
            }
            value.append(bytes[index])
            index += 1
        }
        guard !atLineEnd else {
            problem(start, name, "single quote opened here is not closed on the same line")
            skipLine()
            return false
        }
        index += 1
        return afterClosingQuote(name: name)
    }

    mutating func doubleQuoted(into value: inout [UInt8], name: String, start: Int) -> Bool {
        index += 1
        var end = index
        while end < bytes.count && bytes[end] != doubleQuote { end += bytes[end] == backslash ? 2 : 1 }
        value.reserveCapacity(min(end, bytes.count) - index)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == doubleQuote {
                index += 1
                return afterClosingQuote(name: name)
            }
            if byte == backslash && index + 1 < bytes.count {
                let next = bytes[index + 1]
                switch next {
                case UInt8(ascii: "n"): value.append(newline)
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "r"): value.append(carriageReturn)
                case UInt8(ascii: "a"): value.append(0x07)
                case UInt8(ascii: "b"): value.append(0x08)
                case UInt8(ascii: "f"): value.append(0x0C)
                case UInt8(ascii: "v"): value.append(0x0B)
                case doubleQuote, backslash, singleQuote: value.append(next)
                default:
                    value.append(byte)
                    value.append(next)
                    if next == newline { line += 1 }
                }
                index += 2
                continue
            }
            if byte == newline { line += 1 }
            value.append(byte)
            index += 1
        }
        problem(start, name, "double quote opened here is never closed (the rest of the file was read as its value)")
        return false
    }

    /// Only blanks and a `# comment` may follow a closing quote.
    mutating func afterClosingQuote(name: String) -> Bool {
        skipBlanks()
        if atLineEnd || bytes[index] == hash {
            skipLine()
            return true
        }
        problem(line, name, "unexpected text after the closing quote")
        skipLine()
        return false
    }
}
