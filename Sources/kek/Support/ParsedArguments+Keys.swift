import Foundation
import KeyManagement
import PostgresClient

extension ParsedArguments {
    /// The `--project UUID` every secrets command requires.
    func project() throws -> UUID {
        guard let project = try uuid("project") else { throw UsageError("\(commandPath): missing required option '--project'") }
        return project
    }

    /// Positional argument `index` as a UUID.
    func uuidArgument(_ index: Int, _ what: String) throws -> UUID {
        guard let text = argument(index) else { throw UsageError("\(commandPath): missing argument <\(what)>") }
        guard let id = UUID(uuidString: text) else { throw UsageError("\(commandPath): <\(what)> expects a UUID, got '\(text)'") }
        return id
    }
}
