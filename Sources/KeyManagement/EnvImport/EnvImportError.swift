/// Why an env import did not happen. `refused` carries the full report (every invalid entry
/// or every conflict, by name and line), so callers can show all of it, never a value.
public enum EnvImportError: Error, CustomStringConvertible {
    /// The request itself is unusable (no source, strip without prefix).
    case badRequest(String)
    /// The env file or manifest cannot be read or parsed as a whole.
    case unreadable(path: String, reason: String)
    /// Invalid entries or refused conflicts: nothing was written.
    case refused(EnvImportReport)

    public var description: String {
        switch self {
        case let .badRequest(problem):
            return "import-env: \(problem)"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .refused(report):
            let status: EnvImportReport.Status = report.outcome == .refusedConflicts ? .conflict : .invalid
            let listed = report.entries.filter { $0.status == status }.map { entry -> String in
                var text = entry.line.map { "line \($0)" } ?? entry.origin
                if !entry.name.isEmpty { text += " \(entry.name)" }
                return text + (entry.reason.map { ": \($0)" } ?? "")
            }
            let what = status == .conflict
                ? "\(listed.count) name(s) already stored with another value (use --on-conflict=update or skip)"
                : "\(listed.count) invalid entr\(listed.count == 1 ? "y" : "ies")"
            return "import refused, nothing was written: \(what):\n  " + listed.joined(separator: "\n  ")
        }
    }
}
