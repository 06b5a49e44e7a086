import Foundation
import PackagePlugin

/// Embeds the package's `sql/*.sql` migrations into the target that uses this plugin, as a
/// generated Swift source, so an installed `kek` needs no `sql/` folder beside it.
///
/// The folder is listed on every build, so a migration another engineer adds is embedded
/// without touching this plugin; the files are the build command's inputs, so an edited
/// file regenerates the source. There is no committed second copy of the SQL.
@main
struct EmbedMigrationsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "sql")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let inputs = names.map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrationFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) migrations from sql/",
                executable: try context.tool(named: "embed-migrations").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
