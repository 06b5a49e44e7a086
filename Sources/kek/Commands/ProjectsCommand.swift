import Foundation
import KeyManagement

extension Command {
    static let projects = Command(
        name: "projects",
        abstract: "Find project ids: the projects that hold secrets, signing keys or env imports.",
        discussion: """
            A project is the UUID its secrets are stored under; there is nothing to create first.
            'kek projects new' prints a fresh id for 'kek import-env --project' or 'kek secrets put --project'.
            """,
        subcommands: [projectsList, projectsNew]
    )

    static let projectsList = Command.typed(
        "list",
        abstract: "List project ids with their secret, signing key and env import counts.",
        options: ResultJSONOptions.self,
        run: { options in
            let inventory = try ProjectInventory.list(try Database.connect())
            if options.json { return try Output.json(inventory.projects) }
            if inventory.projects.isEmpty { return print("no projects yet; 'kek projects new' prints an id to start one") }
            print(TextTable.render(["PROJECT", "SECRETS", "SIGNING KEYS", "ENV IMPORTS", "LAST IMPORT"], inventory.projects.map {
                [$0.projectId.uuidString.lowercased(), Formatting.count($0.secrets), Formatting.count($0.signingKeys),
                 Formatting.count($0.envImports), Formatting.time($0.lastImportAt)]
            }))
        }
    )

    static let projectsNew = Command(
        name: "new",
        abstract: "Print a new random project id (writes nothing).",
        run: { _ in print(UUID().uuidString.lowercased()) }
    )
}
