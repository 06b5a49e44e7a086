import Foundation
import KeyManagement

extension Command {
    /// Hidden: fills a database with generated secrets for `.ci/status-load` and benchmarks, so
    /// a rotation there has real DEKs to rewrap. Not meant for a production database; the
    /// secrets are named `SYNTHETIC_<n>` in a project of their own so they are easy to tell apart.
    static let seedSynthetic = Command(
        name: "seed-synthetic",
        abstract: "Insert N generated secrets (SYNTHETIC_<n> = synthetic-value-<n>) under the active KEK, for load tests.",
        options: [
            .value("count", "N", "How many secrets (one DEK each).", default: "10000"),
            .value("project", "UUID", "Project to put them in (default: a new random one)."),
        ],
        hidden: true,
        run: { arguments in
            let count = try arguments.int("count") ?? 10_000
            guard count > 0 else { throw UsageError("kek seed-synthetic: --count must be positive") }
            let session = try KeySession.open()
            let project = try arguments.uuid("project") ?? UUID()
            try SyntheticSecrets.seed(session.connection, keks: KEKCiphers(connection: session.connection, rootKeys: session.rootKeys),
                                      project: project, count: count) { Terminal.progress("seeded \(Formatting.count($0))/\(Formatting.count(count))") }
            Terminal.endProgress()
            print("seeded \(count) synthetic secrets in project \(project.uuidString.lowercased())")
        }
    )
}
