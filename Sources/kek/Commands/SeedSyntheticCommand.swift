import Foundation
import KeyManagement

extension Command {
    /// Hidden: fills a database with generated secrets for `.ci/status-load` and benchmarks, so
    /// a rotation there has real DEKs to rewrap. Not meant for a production database; the
    /// secrets are named `SYNTHETIC_<n>` in a project of their own so they are easy to tell apart.
    static let seedSynthetic = Command.typed(
        "seed-synthetic",
        abstract: "Insert N generated secrets (SYNTHETIC_<n> = synthetic-value-<n>) under the active KEK, for load tests.",
        hidden: true,
        options: SeedSyntheticOptions.self,
        run: { options in
            let count = options.count
            let session = try KeySession.open()
            let project = options.project ?? UUID()
            try SyntheticSecrets.seed(session.connection, keks: KEKCiphers(connection: session.connection, rootKeys: session.rootKeys),
                                      project: project, count: count) { Terminal.progress("seeded \(Formatting.count($0))/\(Formatting.count(count))") }
            Terminal.endProgress()
            print("seeded \(count) synthetic secrets in project \(project.uuidString.lowercased())")
        }
    )
}

/// `kek seed-synthetic`'s options.
struct SeedSyntheticOptions: CommandOptions {
    var count = 10_000
    var project: UUID?

    static let fields: [OptionField<Self>] = [
        .value("count", "N", "How many secrets (one DEK each).", \.count, OptionParser.int.checked("a positive whole number") { $0 > 0 }),
        .value("project", "UUID", "Project to put them in (default: a new random one).", \.project, .uuid),
    ]
}
