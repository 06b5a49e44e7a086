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
        /// Filled in by the parser when the option is not given (untyped commands).
        var defaultValue: String?
        /// Only shown in `--help`: a typed option's default, which its `CommandOptions` property holds.
        var shownDefault: String?
        /// The environment variable that stands in for the option when it is not given
        /// (a flag: `1`/`true`/`yes` or `0`/`false`/`no`), for containers and unit files.
        var environment: String?

        static func flag(_ name: String, _ help: String, env: String? = nil) -> Option {
            Option(name: name, valueName: nil, help: help, environment: env)
        }

        static func value(_ name: String, _ valueName: String, _ help: String, default defaultValue: String? = nil,
                          env: String? = nil) -> Option {
            Option(name: name, valueName: valueName, help: help, defaultValue: defaultValue, environment: env)
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

extension Array where Element == Command.Option {
    /// Gives every option without one an environment variable: `prefix` + its name in upper
    /// case with `_` for `-` (`--poll-interval` -> `KEK_POLL_INTERVAL`).
    func withEnvironment(prefix: String) -> [Command.Option] {
        map { option in
            var option = option
            if option.environment == nil {
                option.environment = prefix + option.name.uppercased().replacingOccurrences(of: "-", with: "_")
            }
            return option
        }
    }
}
