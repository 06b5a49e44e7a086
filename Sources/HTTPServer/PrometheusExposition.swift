/// A builder for the Prometheus text exposition format, version 0.0.4.
///
/// Domain-free so the worker's metrics code only decides *what* to report; this type owns
/// the format rules that are easy to get subtly wrong: valid metric and label names, escaping
/// of label values and help text, `+Inf`/`-Inf`/`NaN`, and one `# HELP`/`# TYPE` per family.
///
/// ```swift
/// var out = PrometheusExposition()
/// try out.family("kek_jobs_total", type: .counter, help: "Jobs run.")
/// try out.sample("kek_jobs_total", labels: [("state", "done")], value: 3)
/// let response = HTTPResponse(headers: ["Content-Type": PrometheusExposition.contentType], body: Array(out.text.utf8))
/// ```
public struct PrometheusExposition: Sendable {
    /// The `Content-Type` for a response carrying `text`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The metric types of the `# TYPE` line.
    public enum MetricType: String, Sendable {
        case counter, gauge, histogram, summary, untyped
    }

    /// Why a call was refused. Names are reported; values are not, as they may be sensitive.
    public enum Error: Swift.Error, Equatable, Sendable {
        case invalidMetricName(String)
        case invalidLabelName(String)
        case duplicateLabelName(String)
        case duplicateFamily(String)
    }

    /// The exposition so far; each line ends with `\n`.
    public private(set) var text = ""
    private var families: Set<String> = []

    public init() {}

    /// Writes the `# HELP` and `# TYPE` lines for a metric family. Each family may be declared once.
    public mutating func family(_ name: String, type: MetricType, help: String) throws {
        guard Self.isValidMetricName(name) else { throw Error.invalidMetricName(name) }
        guard families.insert(name).inserted else { throw Error.duplicateFamily(name) }
        text += "# HELP \(name) \(Self.escapeHelp(help))\n"
        text += "# TYPE \(name) \(type.rawValue)\n"
    }

    /// Writes one sample line: `name{label="value",...} value`.
    public mutating func sample(_ name: String, labels: [(String, String)] = [], value: Double) throws {
        guard Self.isValidMetricName(name) else { throw Error.invalidMetricName(name) }
        var seen: Set<String> = []
        for (label, _) in labels {
            guard Self.isValidLabelName(label) else { throw Error.invalidLabelName(label) }
            guard seen.insert(label).inserted else { throw Error.duplicateLabelName(label) }
        }
        var line = name
        if !labels.isEmpty {
            line += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += "\(line) \(Self.formatValue(value))\n"
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetterOrUnderscore(first) || first == UInt8(ascii: ":") else { return false }
        return name.utf8.allSatisfy { isLetterOrUnderscore($0) || ASCII.isDigit($0) || $0 == UInt8(ascii: ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__` (reserved for Prometheus itself).
    public static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetterOrUnderscore(first), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetterOrUnderscore($0) || ASCII.isDigit($0) }
    }

    /// Label values escape backslash, double quote and line feed.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Help text escapes backslash and line feed (quotes are literal there).
    public static func escapeHelp(_ help: String) -> String {
        var out = ""
        for character in help.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Go-`ParseFloat`-compatible text: `+Inf`, `-Inf`, `NaN`, integers without a fraction
    /// (exact up to 2^53), everything else in Swift's shortest round-tripping form.
    public static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(.towardZero) && abs(value) <= 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return String(value)
    }

    private static func isLetterOrUnderscore(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || b == UInt8(ascii: "_")
    }
}
