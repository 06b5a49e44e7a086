import Foundation
import JobQueue

/// What the command line said, checked against the command's declared options.
struct ParsedArguments {
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []
    let commandPath: String

    init(_ words: ArraySlice<String>, for command: Command, path: String) throws {
        commandPath = path
        var rest = words
        while let word = rest.popFirst() {
            guard word.hasPrefix("--"), word != "--" else {
                if word == "--" { positionals += rest; break }
                positionals.append(word)
                continue
            }
            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError("\(path): unknown option '--\(name)'")
            }
            if option.valueName == nil {
                guard inline == nil else { throw UsageError("\(path): option '--\(name)' takes no value") }
                flags.insert(name)
            } else if let inline {
                values[name] = inline
            } else if let next = rest.popFirst(), !next.hasPrefix("--") {
                values[name] = next
            } else {
                throw UsageError("\(path): option '--\(name)' needs a value (\(option.valueName ?? "VALUE"))")
            }
        }
        for option in command.options where values[option.name] == nil {
            if let value = option.defaultValue { values[option.name] = value }
        }
        let required = command.arguments.filter { !$0.optional }.count
        guard positionals.count >= required else {
            let missing = command.arguments[positionals.count].name
            throw UsageError("\(path): missing argument <\(missing)>")
        }
        guard positionals.count <= command.arguments.count else {
            throw UsageError("\(path): unexpected argument '\(positionals[command.arguments.count])'")
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) -> String? { values[name] }

    func argument(_ index: Int) -> String? { positionals.indices.contains(index) ? positionals[index] : nil }

    func require(_ name: String) throws -> String {
        guard let value = values[name] else { throw UsageError("\(commandPath): missing required option '--\(name)'") }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let text = values[name] else { return nil }
        // Bounded so that no caller traps narrowing it (an int4 column, an Int32 count).
        guard let number = Int32(text.replacingOccurrences(of: "_", with: "")).map(Int.init) else {
            throw UsageError("\(commandPath): option '--\(name)' expects a whole number of at most \(Int32.max), got '\(text)'")
        }
        return number
    }

    func uuid(_ name: String) throws -> UUID? {
        guard let text = values[name] else { return nil }
        guard let id = UUID(uuidString: text) else {
            throw UsageError("\(commandPath): option '--\(name)' expects a UUID, got '\(text)'")
        }
        return id
    }

    /// Durations written `90s`, `15m`, `12h`, `7d`.
    func duration(_ name: String) throws -> TimeInterval? {
        guard let text = values[name] else { return nil }
        guard let seconds = JobDuration.seconds(text) else {
            throw UsageError("\(commandPath): option '--\(name)' expects a duration like 30s, 15m, 12h or 7d, "
                                + "at most 3650d, got '\(text)'")
        }
        return seconds
    }
}
