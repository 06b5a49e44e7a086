/// Free text (a job's `last_error`) as it may appear on an endpoint that answers without a
/// token.
///
/// kek's own refusals already carry no byte of a value or key; this is the second line, for
/// text kek did not write itself: a database error quoting a row (`DETAIL: Key (name)=(...)`),
/// a library message echoing its input, a connection string with a password. So it drops
/// what such text puts values in, rather than trying to recognise a value:
/// - everything from `DETAIL:` on (PostgreSQL puts row contents there);
/// - the inside of quotes (`'...'`, `"..."`), and URL user info (`://user:pass@`);
/// - runs of 20 or more key-like characters (`A-Za-z0-9+/=_-`): base64 or hex keys, tokens;
///   UUIDs (job and project ids) are kept;
/// - control characters (newlines included) become spaces; at most `maximumLength` characters.
/// The full text stays in `jobs.last_error` for those with database access (`kek jobs show`).
enum PublicText {
    static let maximumLength = 300
    static let redacted = "[redacted]"

    static func scrub(_ text: String) -> String {
        var text = text
        if let detail = text.range(of: "DETAIL:") { text = String(text[..<detail.lowerBound]) + redacted }
        var output = ""
        var token = ""
        var quote: Character?
        func flush() {
            output += token.count >= 20 && !isUUID(token) ? redacted : token
            token = ""
        }
        for character in text {
            if let open = quote {
                if character == open { output += "\(open)\(redacted)\(open)"; quote = nil }
                continue
            }
            if isKeyCharacter(character) { token.append(character); continue }
            flush()
            if character == "'" || character == "\"" { quote = character; continue }
            if character == "@", let scheme = output.range(of: "://", options: .backwards) {
                output = String(output[..<scheme.upperBound]) + redacted
            }
            output.append(character.isASCII && (character.asciiValue! < 0x20 || character.asciiValue! == 0x7F) ? " " : character)
        }
        flush()
        if quote != nil { output += redacted }
        return output.count > maximumLength ? String(output.prefix(maximumLength)) + "..." : output
    }

    private static func isKeyCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private static func isUUID(_ token: String) -> Bool {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
