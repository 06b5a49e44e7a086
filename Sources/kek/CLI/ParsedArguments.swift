import Foundation

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
        let environment = ProcessInfo.processInfo.environment
        for option in command.options where values[option.name] == nil && !flags.contains(option.name) {
            if let variable = option.environment, let text = environment[variable], !text.isEmpty {
                guard option.valueName == nil else {
                    values[option.name] = text
                    continue
                }
                switch text.lowercased() {
                case "1", "true", "yes": flags.insert(option.name)
                case "0", "false", "no": break
                default: throw UsageError("\(path): \(variable) must be 1/true/yes or 0/false/no, got '\(text)'")
                }
            } else if let value = option.defaultValue {
                values[option.name] = value
            }
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

    /// For the commands still on untyped options (the benchmarks): `OptionParser.int`.
    func int(_ name: String) throws -> Int? { try OptionParser.int.value(self, name) }

    /// For the commands still on untyped options (the benchmarks): `OptionParser.duration`.
    func duration(_ name: String) throws -> TimeInterval? { try OptionParser.duration.value(self, name) }
}
