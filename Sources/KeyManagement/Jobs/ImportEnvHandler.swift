import Foundation
import JobQueue

/// Runs an `import_env` job: the one-shot env migration of `kek import-env`, enqueued so
/// that its report (names and counts, never values) can be read from the job and the
/// status endpoint. The environment source is the worker's own environment.
struct ImportEnvHandler: JobHandler {
    static let kind = "import_env"

    func run(_ context: JobContext) throws -> JobOutcome {
        let request = try context.decodeArguments(EnvImportRequest.self)
        let keks = KEKCiphers(connection: context.connection, rootKeys: try RootKeys.fromEnvironment())
        do {
            let report = try EnvImport.run(connection: context.connection, keks: keks, request: request, actor: context.workerID)
            return .completed(result: String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
        } catch let error as EnvImportError {
            throw PermanentJobError("\(error)")
        }
    }
}
