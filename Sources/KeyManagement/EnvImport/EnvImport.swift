import Foundation
import KeyWrapping
import PostgresClient

/// The one-shot migration of env-var secrets into `project_secrets` (`kek import-env`, in the
/// operator's process; never in a worker).
///
/// All or nothing: every entry is checked first and any invalid one refuses the whole import
/// with all of them listed; then one transaction compares each name with what is stored,
/// refuses conflicts unless the policy says otherwise, writes every change in a handful of
/// batched statements, and records the run in `env_imports` and the audit log (names and
/// counts, never values). Re-running with the same values changes nothing.
///
/// Memory: file values are read into wiped buffers and each plaintext is wiped right after it
/// is sealed or compared. Values taken from the process environment also exist as Swift
/// Strings in `ProcessInfo.environment` (and in the process's `environ`), which cannot be
/// wiped: remove the variables from the deployment once they are imported.
public enum EnvImport {
    /// Runs `request`. Returns the report of a committed import or a dry run; throws
    /// `EnvImportError.refused(report)` when an entry is invalid or a conflict is refused
    /// (nothing written), and other errors (database, unreadable KEK) as they come.
    public static func run(
        connection: PostgresConnection, keks: KEKCiphers, request: EnvImportRequest, actor: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> EnvImportReport {
        if let problem = request.problem() { throw EnvImportError.badRequest(problem) }
        let started = Date()
        let collected = try EnvSources.collect(request, environment: environment)
        defer { for candidate in collected.candidates { candidate.value.wipe() } }
        func report(_ outcome: EnvImportReport.Outcome, _ entries: [EnvImportReport.Entry], importID: Int64? = nil) -> EnvImportReport {
            EnvImportReport(project: request.project, source: request.sourceDescription, onConflict: request.onConflict,
                            outcome: outcome, importID: importID, entries: entries, startedAt: started, finishedAt: Date())
        }
        guard collected.invalid.isEmpty else { throw EnvImportError.refused(report(.refusedInvalid, collected.invalid)) }

        return try connection.transaction {
            // Two imports into one project take turns, so each sees the other's rows.
            try connection.execute("SELECT pg_advisory_xact_lock(hashtext('kek.env_import'), hashtext($1))",
                                   [AAD.canonical(request.project)])
            let names = collected.candidates.map(\.name) + collected.declared.map(\.name)
            let existing = try EnvImportPlan.loadExisting(connection, project: request.project, names: names, lock: !request.dryRun)
            let plan = try EnvImportPlan.make(collected, existing: existing, policy: request.onConflict,
                                              project: request.project, keks: keks)
            if plan.hasConflicts { throw EnvImportError.refused(report(.refusedConflicts, plan.entries)) }
            if request.dryRun { return report(.dryRun, plan.entries) }

            try EnvImportWriter(connection: connection, keks: keks, project: request.project)
                .write(plan, candidates: collected.candidates)
            var result = report(.imported, plan.entries)
            let importID = try record(result, request: request, actor: actor, connection: connection)
            result.importID = importID
            result.finishedAt = Date()
            return result
        }
    }

    /// The `env_imports` row and the `env.imported` audit row, in the import's transaction.
    private static func record(_ report: EnvImportReport, request: EnvImportRequest, actor: String,
                               connection: PostgresConnection) throws -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let counts = String(decoding: try encoder.encode(report.counts), as: UTF8.self)
        let names = String(decoding: try encoder.encode(report.namesByStatus), as: UTF8.self)
        let id: Int64 = try connection.query("""
            INSERT INTO env_imports (project_id, started_at, source, on_conflict, counts, names, actor)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """, [request.project, report.startedAt, report.source, request.onConflict.rawValue,
                  PostgresJSON(counts), PostgresJSON(names), actor])[0].decode(0)
        var details: [String: AuditValue] = [
            "env_import_id": .int(id), "project": .text(AAD.canonical(request.project)),
            "source": .text(report.source), "on_conflict": .text(request.onConflict.rawValue),
        ]
        for (status, count) in report.counts where count > 0 { details[status] = .int(Int64(count)) }
        for (status, list) in report.namesByStatus { details["names_\(status)"] = .texts(list) }
        try AuditLog.append(connection, actor: actor, action: .envImported, target: "project:\(AAD.canonical(request.project))",
                            details: details)
        return id
    }
}
