import Foundation
import KeyManagement

extension Command {
    static let importEnv = Command.typed(
        "import-env",
        abstract: "Move env-var secrets (a dotenv file, the environment, or both) into a project's encrypted store.",
        discussion: """
            One transaction, all or nothing: any invalid entry (bad line, bad name, NUL, invalid
            UTF-8, value over 64 KiB) refuses the whole import and every one is listed by line.
            Re-running with the same values changes nothing ('unchanged'). A name stored with a
            different value is refused unless --on-conflict=update (new DEK, version + 1) or skip.
            The report names each variable and what happened to it, never a value.
            Dotenv dialect: python-dotenv's, with a BOM ignored and CRLF/CR line ends, except that
            lines two readers could take two ways are refused (A= #x, ${VAR}, multi-line single
            quotes, names outside [A-Za-z_][A-Za-z0-9_]*, a name defined twice); see the README.
            Refusals name the line, the length and the problem, never the text.
            Reads the file and the environment of this process only (the import_env job kind is
            retired); KEK_*, DATABASE_URL and PG* variables are never imported.
            Needs DATABASE_URL and KEK_ROOT_KEYS, and an active KEK.
            """,
        options: ImportEnvOptions.self,
        run: { options in
            let request = options.request
            if let problem = request.problem() { throw UsageError("kek import-env: \(problem)") }
            let context = try KeySession.open()
            do {
                let report = try EnvImport.run(connection: context.connection, keks: context.keks, request: request,
                                               actor: context.actor)
                if options.json { try Output.json(report) } else { print(ImportReportText.render(report)) }
            } catch EnvImportError.refused(let report) {
                if options.json {
                    try Output.json(report)
                    throw CommandFailure("import refused (\(report.outcome.rawValue)); nothing was written")
                }
                throw CommandFailure(EnvImportError.refused(report).description)
            }
        }
    )
}

/// `kek import-env`'s options: the import request, and `--json`.
struct ImportEnvOptions: CommandOptions {
    var request = EnvImportRequest(project: UUID())
    var json = false

    static let fields: [OptionField<Self>] = [
        .required("project", "UUID", "Project the secrets belong to (required).", \.request.project, .uuid),
        .value("env-file", "FILE", "Dotenv file to import.", \.request.envFile, .text),
        .value("prefix", "PREFIX", "Import environment variables whose names start with PREFIX.", \.request.prefix, .text),
        .flag("strip-prefix", "Store APP_NAME as NAME when the prefix is APP_.", \.request.stripPrefix),
        .value("manifest", "FILE", "JSON {\"properties\": {\"NAME\": {\"description\": ...}}}; absent names become stubs.",
               \.request.manifest, .text),
        .value("on-conflict", "POLICY", "refuse, update or skip", \.request.onConflict, .choice(EnvConflictPolicy.allCases)),
        .flag("dry-run", "Report what would happen; write nothing.", \.request.dryRun),
        .flag("json", "Print the report as JSON.", \.json),
    ]
}

/// The human form of an import report: one line per name, a summary, what can be removed.
enum ImportReportText {
    static func render(_ report: EnvImportReport) -> String {
        var lines: [String] = []
        let project = report.project.uuidString.lowercased()
        switch report.outcome {
        case .dryRun: lines.append("dry run, nothing was written: project \(project), \(report.source)")
        case .imported: lines.append("imported into project \(project) (import \(report.importID ?? 0)), \(report.source)")
        case .refusedInvalid, .refusedConflicts: lines.append("refused, nothing was written: project \(project), \(report.source)")
        }
        let width = min(40, report.entries.map(\.name.count).max() ?? 0)
        for entry in report.entries {
            var notes: [String] = []
            if let line = entry.line { notes.append("line \(line)") }
            if let variable = entry.variable { notes.append("from \(variable)") } else if entry.origin == "env" { notes.append("from env") }
            if let reason = entry.reason { notes.append(reason) }
            let status = entry.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            lines.append("  \(status) \(entry.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(notes.joined(separator: "; "))")
        }
        let counts = report.counts
        let order: [EnvImportReport.Status] = [.created, .unchanged, .updated, .skipped, .missing, .conflict, .invalid]
        let summary = order.filter { counts[$0.rawValue, default: 0] > 0 || [.created, .unchanged, .updated].contains($0) }
            .map { "\(counts[$0.rawValue, default: 0]) \($0.rawValue)" }.joined(separator: ", ")
        lines.append("\(summary) in \(String(format: "%.2f", report.elapsedSeconds)) s")
        if !report.removableVariables.isEmpty {
            lines.append("stored with the same value; these variables can now be removed from the deployment:")
            lines.append("  " + report.removableVariables.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
