/// One command of the `kek` tool: its help text, the options it accepts and what it runs.
///
/// Written by hand because the project takes no package dependencies; the shape follows
/// swift-argument-parser's (a command tree, usage errors as values with exit codes).
struct Command: Sendable {
    var name: String
    var abstract: String
    var discussion: String = ""
    var options: [Option] = []
    var arguments: [Argument] = []
    var subcommands: [Command] = []
    /// Left out of the parent's help (tools for benchmarks and load tests, not for operators).
    var hidden = false
    var run: (@Sendable (ParsedArguments) throws -> Void)?

    /// A named option (`--name VALUE`, `--name=VALUE`) or a flag (`--name`).
    struct Option: Sendable {
        var name: String
        var valueName: String?
        var help: String
        var defaultValue: String?

        static func flag(_ name: String, _ help: String) -> Option {
            Option(name: name, valueName: nil, help: help)
        }

        static func value(_ name: String, _ valueName: String, _ help: String, default defaultValue: String? = nil) -> Option {
            Option(name: name, valueName: valueName, help: help, defaultValue: defaultValue)
        }
    }

    /// A positional argument.
    struct Argument: Sendable {
        var name: String
        var help: String
        var optional = false
    }
}

/// The exit codes `kek` documents: 0 ok, 1 failure, 2 usage error.
enum ExitCode: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
}

/// A mistake in how the command was called; printed with a pointer to `--help`, exit 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A failure a person can act on; printed as `kek: error: ...`, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
