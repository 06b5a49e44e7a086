import Foundation

/// Finds the command named by the words, prints help when asked, runs it and maps errors
/// to the documented exit codes.
struct CommandLineTool {
    let root: Command
    /// What `kek --version` prints.
    var versionLine: () -> String = { "" }

    func run(_ words: [String]) -> Int32 {
        if words == ["--version"] {
            print(versionLine())
            return ExitCode.success.rawValue
        }
        // `kek help keys generate` is `kek keys generate --help`.
        let words = words.first == "help" ? Array(words.dropFirst()) + ["--help"] : words
        var command = root
        var path = root.name
        var rest = words[...]
        while let next = rest.first, let sub = command.subcommands.first(where: { $0.name == next }) {
            command = sub
            path += " " + next
            rest = rest.dropFirst()
        }
        let options = rest.prefix { $0 != "--" }
        if options.contains("--help") || options.contains("-h") || command.run == nil && rest.isEmpty {
            if let unknown = rest.first, !unknown.hasPrefix("-"), command.run == nil {
                return fail(UsageError("\(path): unknown command '\(unknown)'"), path: path)
            }
            print(HelpText.render(command, path: path))
            return ExitCode.success.rawValue
        }
        guard let run = command.run else {
            return fail(UsageError("\(path): unknown command '\(rest.first ?? "")'"), path: path)
        }
        do {
            try run(try ParsedArguments(rest, for: command, path: path))
            return ExitCode.success.rawValue
        } catch {
            return fail(error, path: path)
        }
    }

    private func fail(_ error: any Error, path: String) -> Int32 {
        if let usage = error as? UsageError {
            Terminal.error("\(usage.description)\nsee '\(path) --help'")
            return ExitCode.usage.rawValue
        }
        Terminal.error("error: \(error)")
        return ExitCode.failure.rawValue
    }
}

/// Help text in the usual layout: usage line, abstract, subcommands, arguments, options.
enum HelpText {
    static func render(_ command: Command, path: String) -> String {
        var lines: [String] = []
        var usage = "usage: \(path)"
        if !command.subcommands.isEmpty { usage += " <command>" }
        if !command.options.isEmpty { usage += " [options]" }
        for argument in command.arguments { usage += argument.optional ? " [<\(argument.name)>]" : " <\(argument.name)>" }
        lines += [usage, "", command.abstract]
        if !command.discussion.isEmpty { lines += ["", command.discussion] }
        let listed = command.subcommands.filter { !$0.hidden }
        if !listed.isEmpty {
            lines += ["", "commands:"]
            let width = listed.map(\.name.count).max() ?? 0
            lines += listed.map { "  \($0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0))\($0.abstract)" }
        }
        if !command.arguments.isEmpty {
            lines += ["", "arguments:"]
            lines += command.arguments.map { "  <\($0.name)>  \($0.help)" }
        }
        let options = command.options + [Command.Option.flag("help", "Show this help (also -h).")]
        lines += ["", "options:"]
        let labels = options.map { "--\($0.name)" + ($0.valueName.map { " \($0)" } ?? "") }
        let width = labels.map(\.count).max() ?? 0
        for (option, label) in zip(options, labels) {
            var text = "  \(label.padding(toLength: width + 2, withPad: " ", startingAt: 0))\(option.help)"
            if let value = option.defaultValue ?? option.shownDefault { text += " (default: \(value))" }
            if let variable = option.environment { text += " [env \(variable)]" }
            lines.append(text)
        }
        if path == "kek" {
            lines += ["", "'kek help COMMAND' (or 'kek COMMAND -h') shows a command's help; 'kek --version' the version.",
                      "exit codes: 0 success, 1 failure, 2 usage error"]
        }
        return lines.joined(separator: "\n")
    }
}
