import Foundation

/// What an import did (or, for a dry run or a refused import, would have done), per name.
///
/// Names, statuses, line numbers and reasons only, never a value: safe to print, to store
/// and to log. Codable for `kek import-env --json`.
public struct EnvImportReport: Codable, Sendable, Equatable {
    /// What happened to one name.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case created, unchanged, updated, skipped, missing, invalid, conflict
    }

    /// How the run as a whole ended.
    public enum Outcome: String, Codable, Sendable {
        case imported
        case dryRun = "dry_run"
        /// At least one entry was invalid; nothing was written.
        case refusedInvalid = "refused_invalid"
        /// At least one name is stored with another value and the policy is `refuse`; nothing was written.
        case refusedConflicts = "refused_conflicts"
    }

    /// One name (or, for a line that has none, one line) of the sources.
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var status: Status
        /// `file`, `env` or `manifest`.
        public var origin: String
        /// Line of the env file where the entry starts.
        public var line: Int?
        /// The environment variable it came from, when a prefix was stripped.
        public var variable: String?
        public var reason: String?
    }

    public var project: UUID
    public var source: String
    public var onConflict: EnvConflictPolicy
    public var outcome: Outcome
    /// The `env_imports` row of a committed import.
    public var importID: Int64?
    public var entries: [Entry]
    public var startedAt: Date
    public var finishedAt: Date

    enum CodingKeys: String, CodingKey {
        case project, source, outcome, entries, counts
        case onConflict = "on_conflict"
        case importID = "import_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case removable = "removable_variables"
    }

    public init(project: UUID, source: String, onConflict: EnvConflictPolicy, outcome: Outcome, importID: Int64? = nil,
                entries: [Entry], startedAt: Date, finishedAt: Date) {
        self.project = project
        self.source = source
        self.onConflict = onConflict
        self.outcome = outcome
        self.importID = importID
        self.entries = entries
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        project = try c.decode(UUID.self, forKey: .project)
        source = try c.decode(String.self, forKey: .source)
        onConflict = try c.decode(EnvConflictPolicy.self, forKey: .onConflict)
        outcome = try c.decode(Outcome.self, forKey: .outcome)
        importID = try c.decodeIfPresent(Int64.self, forKey: .importID)
        entries = try c.decode([Entry].self, forKey: .entries)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        finishedAt = try c.decode(Date.self, forKey: .finishedAt)
    }

    /// Also writes the derived `counts` and `removable_variables`, for machines reading the JSON.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(project.uuidString.lowercased(), forKey: .project)
        try c.encode(source, forKey: .source)
        try c.encode(onConflict, forKey: .onConflict)
        try c.encode(outcome, forKey: .outcome)
        try c.encodeIfPresent(importID, forKey: .importID)
        try c.encode(entries, forKey: .entries)
        try c.encode(counts, forKey: .counts)
        try c.encode(removableVariables, forKey: .removable)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
    }

    /// Entries per status, every status present (zero included).
    public var counts: [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Status.allCases.map { ($0.rawValue, 0) })
        for entry in entries { counts[entry.status.rawValue, default: 0] += 1 }
        return counts
    }

    /// Names per status, for `env_imports.names` and the audit row.
    public var namesByStatus: [String: [String]] {
        Dictionary(grouping: entries, by: { $0.status.rawValue }).mapValues { $0.map(\.name) }
    }

    /// The variables whose value is now stored exactly as the source had it, so the
    /// deployment can stop setting them (empty unless the import was committed).
    public var removableVariables: [String] {
        guard outcome == .imported else { return [] }
        return entries.filter { [.created, .unchanged, .updated].contains($0.status) && $0.origin != "manifest" }
            .map { $0.variable ?? $0.name }
    }

    public var elapsedSeconds: Double { finishedAt.timeIntervalSince(startedAt) }
}
