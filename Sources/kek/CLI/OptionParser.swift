import Foundation
import JobQueue

/// How an option's text becomes a typed value, what a usage error says it expects, and how
/// `--help` shows a default of that type.
struct OptionParser<Value>: Sendable {
    /// Completes "option '--name' expects ...".
    var expectation: String
    var parse: @Sendable (String) -> Value?
    /// The default as `--help` shows it; nil shows none (an empty list).
    var show: @Sendable (Value) -> String?

    /// The option's value, nil when neither given nor set through its environment variable.
    func value(_ arguments: ParsedArguments, _ name: String) throws -> Value? {
        guard let text = arguments.string(name) else { return nil }
        guard let value = parse(text) else {
            throw UsageError("\(arguments.commandPath): option '--\(name)' expects \(expectation), got '\(text)'")
        }
        return value
    }

    /// Positional argument `index`, nil when left out.
    func argument(_ arguments: ParsedArguments, _ index: Int, _ name: String) throws -> Value? {
        guard let text = arguments.argument(index) else { return nil }
        guard let value = parse(text) else {
            throw UsageError("\(arguments.commandPath): <\(name)> expects \(expectation), got '\(text)'")
        }
        return value
    }

    /// Values that `check` refuses are refused as text that does not parse.
    func checked(_ expectation: String, _ check: @escaping @Sendable (Value) -> Bool) -> OptionParser {
        let parse = self.parse
        return OptionParser(expectation: expectation, parse: { parse($0).flatMap { check($0) ? $0 : nil } }, show: show)
    }
}

extension OptionParser where Value == Int {
    /// Bounded so that no caller traps narrowing it (an int4 column, an Int32 count); `_` separates thousands.
    static var int: OptionParser { OptionParser(expectation: "a whole number of at most \(Int32.max)",
                                  parse: { Int32($0.replacingOccurrences(of: "_", with: "")).map(Int.init) },
                                  show: { String($0) }) }
}

extension OptionParser where Value == Int32 {
    /// A KEK id.
    static var kekID: OptionParser { OptionParser(expectation: "a KEK id (a whole number)", parse: { Int32($0) }, show: { String($0) }) }
}

extension OptionParser where Value == [Int32] {
    /// `ID[,ID]`: positive KEK ids separated by commas.
    static var kekIDs: OptionParser { OptionParser(
        expectation: "KEK ids separated by commas",
        parse: { text in
            let ids = text.split(separator: ",", omittingEmptySubsequences: false).map { Int32($0.trimmingCharacters(in: .whitespaces)) }
            guard ids.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
            return ids.compactMap { $0 }
        },
        show: { $0.isEmpty ? nil : $0.map(String.init).joined(separator: ",") }) }
}

extension OptionParser where Value == Int64 {
    /// A job id.
    static var jobID: OptionParser { OptionParser(expectation: "a positive job id", parse: { Int64($0).flatMap { $0 > 0 ? $0 : nil } },
                                    show: { String($0) }) }
}

extension OptionParser where Value == Double {
    /// Durations written `90s`, `15m`, `12h`, `7d`, `500ms`, or compound: `1m30s`, `1h30m`.
    static var duration: OptionParser { OptionParser(
        expectation: "a duration like 30s, 1m30s, 500ms, 12h or 7d, at most 3650d", parse: { JobDuration.seconds($0) },
        show: { seconds in
            if seconds >= 86_400, seconds.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(seconds / 86_400))d" }
            if seconds.rounded() == seconds { return "\(Int(seconds))s" }
            return "\(Int((seconds * 1000).rounded()))ms"
        }) }

    /// A rows-per-second cap: a positive finite number (checked against its bounds by the job's arguments).
    static var rate: OptionParser { OptionParser(expectation: "a positive number of rows per second",
                                   parse: { Double($0).flatMap { $0.isFinite && $0 > 0 ? $0 : nil } }, show: { "\($0)" }) }
}

extension OptionParser where Value == String {
    static var text: OptionParser { OptionParser(expectation: "text", parse: { $0 }, show: { $0 }) }
}

extension OptionParser where Value == UUID {
    static var uuid: OptionParser { OptionParser(expectation: "a UUID", parse: { UUID(uuidString: $0) }, show: { $0.uuidString.lowercased() }) }
}

extension OptionParser where Value: RawRepresentable & Sendable, Value.RawValue == String {
    /// One of `cases`, by raw value (`plain|json`).
    static func choice(_ cases: [Value]) -> OptionParser {
        OptionParser(expectation: Formatting.alternatives(cases.map(\.rawValue)), parse: { text in cases.first { $0.rawValue == text } },
                     show: { $0.rawValue })
    }
}
