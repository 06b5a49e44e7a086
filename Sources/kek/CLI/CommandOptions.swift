import Foundation

/// The typed options of one command, declared once: each field names its option (name, help,
/// environment variable) and the property it fills; the property's initial value is the
/// default, a typed value that `--help` shows. The hand-written parser checks the words
/// (`ParsedArguments`), then each field converts its text into the property's type, so a
/// command's `run` gets a value with no strings left to parse.
protocol CommandOptions: Sendable {
    /// Every property at its default.
    init()
    static var fields: [OptionField<Self>] { get }
}

extension CommandOptions {
    /// What `Command` lists in `--help` and checks the words against, in declaration order.
    static var declaredOptions: [Command.Option] {
        let defaults = Self()
        return fields.compactMap { $0.declaration(defaults).option }
    }

    static var declaredArguments: [Command.Argument] { fields.compactMap { $0.declaration(Self()).argument } }

    /// Converts what the command line (or the environment) said into the typed values.
    init(_ arguments: ParsedArguments) throws {
        self.init()
        for field in Self.fields { try field.apply(arguments, &self) }
    }
}

/// One option, flag or positional argument of a `CommandOptions` type, and the property it fills.
struct OptionField<Options>: Sendable {
    enum Declaration {
        case option(Command.Option)
        case argument(Command.Argument)

        var option: Command.Option? { if case .option(let option) = self { option } else { nil } }
        var argument: Command.Argument? { if case .argument(let argument) = self { argument } else { nil } }
    }

    /// The declaration, given the defaults (what `--help` shows as "default").
    let declaration: @Sendable (Options) -> Declaration
    let apply: @Sendable (ParsedArguments, inout Options) throws -> Void

    /// `--name VALUE`; when it is not given (nor its environment variable), the property keeps its
    /// initial value, which `--help` shows as the default.
    static func value<Value>(_ name: String, _ valueName: String, _ help: String, _ key: WritableKeyPath<Options, Value> & Sendable,
                             _ parser: OptionParser<Value>, env: String? = nil) -> OptionField {
        OptionField(
            declaration: { defaults in
                .option(Command.Option(name: name, valueName: valueName, help: help, shownDefault: parser.show(defaults[keyPath: key]),
                                       environment: env))
            },
            apply: { arguments, options in
                if let value = try parser.value(arguments, name) { options[keyPath: key] = value }
            })
    }

    /// `--name VALUE` with no default: nil when not given.
    static func value<Value>(_ name: String, _ valueName: String, _ help: String, _ key: WritableKeyPath<Options, Value?> & Sendable,
                             _ parser: OptionParser<Value>, env: String? = nil) -> OptionField {
        OptionField(
            declaration: { _ in .option(Command.Option(name: name, valueName: valueName, help: help, environment: env)) },
            apply: { arguments, options in options[keyPath: key] = try parser.value(arguments, name) })
    }

    /// `--name VALUE` that must be given (no default; a usage error when missing).
    static func required<Value>(_ name: String, _ valueName: String, _ help: String, _ key: WritableKeyPath<Options, Value> & Sendable,
                                _ parser: OptionParser<Value>, env: String? = nil) -> OptionField {
        OptionField(
            declaration: { _ in .option(Command.Option(name: name, valueName: valueName, help: help, environment: env)) },
            apply: { arguments, options in
                guard let value = try parser.value(arguments, name) else {
                    throw UsageError("\(arguments.commandPath): missing required option '--\(name)'")
                }
                options[keyPath: key] = value
            })
    }

    /// `--name` (or its environment variable set to 1/true/yes).
    static func flag(_ name: String, _ help: String, _ key: WritableKeyPath<Options, Bool> & Sendable, env: String? = nil) -> OptionField {
        OptionField(
            declaration: { _ in .option(.flag(name, help, env: env)) },
            apply: { arguments, options in options[keyPath: key] = arguments.flag(name) })
    }

    /// The positional argument at `index` (the parser has checked that every required one is there).
    static func argument<Value>(_ index: Int, _ name: String, _ help: String, _ key: WritableKeyPath<Options, Value> & Sendable,
                                _ parser: OptionParser<Value>) -> OptionField {
        OptionField(
            declaration: { _ in .argument(Command.Argument(name: name, help: help)) },
            apply: { arguments, options in
                if let value = try parser.argument(arguments, index, name) { options[keyPath: key] = value }
            })
    }

    /// An optional positional argument: nil when left out.
    static func argument<Value>(_ index: Int, _ name: String, _ help: String, _ key: WritableKeyPath<Options, Value?> & Sendable,
                                _ parser: OptionParser<Value>) -> OptionField {
        OptionField(
            declaration: { _ in .argument(Command.Argument(name: name, help: help, optional: true)) },
            apply: { arguments, options in options[keyPath: key] = try parser.argument(arguments, index, name) })
    }
}

extension Array {
    /// Gives every option field without one an environment variable (`withEnvironment(prefix:)`).
    func withEnvironment<Options>(prefix: String) -> [OptionField<Options>] where Element == OptionField<Options> {
        map { field in
            OptionField(declaration: { defaults in
                guard case .option(let option) = field.declaration(defaults) else { return field.declaration(defaults) }
                return .option([option].withEnvironment(prefix: prefix)[0])
            }, apply: field.apply)
        }
    }
}

extension Command {
    /// A command whose options are the typed `Options`; `run` gets them parsed.
    static func typed<Options: CommandOptions>(
        _ name: String, abstract: String, discussion: String = "", hidden: Bool = false, options: Options.Type,
        run: @escaping @Sendable (Options) throws -> Void
    ) -> Command {
        Command(name: name, abstract: abstract, discussion: discussion, options: Options.declaredOptions,
                arguments: Options.declaredArguments, hidden: hidden, run: { arguments in try run(try Options(arguments)) })
    }
}

extension OptionField {
    /// The fields of a group of options kept in one property (`ScheduleSelection`), shared by
    /// the commands that take the same options.
    static func group<Group>(_ key: WritableKeyPath<Options, Group> & Sendable, _ fields: [OptionField<Group>]) -> [OptionField] {
        fields.map { field in
            OptionField(declaration: { defaults in
                switch field.declaration(defaults[keyPath: key]) {
                case .option(let option): .option(option)
                case .argument(let argument): .argument(argument)
                }
            }, apply: { arguments, options in try field.apply(arguments, &options[keyPath: key]) })
        }
    }
}
