import Foundation
import KeyWrapping

/// What to do when a name is already stored with a different value.
public enum EnvConflictPolicy: String, Codable, Sendable, CaseIterable {
    /// Refuse the whole import and list the conflicts (the default: nothing is overwritten
    /// by surprise).
    case refuse
    /// Replace the stored value: new DEK, new ciphertext, version + 1, old DEK deleted.
    case update
    /// Keep the stored value and report the name as skipped.
    case skip
}

/// One env import, as `kek import-env` builds it (JSON keys `project`, `env_file`, `prefix`,
/// `strip_prefix`, `manifest`, `on_conflict`, `dry_run`; all but `project` may be left out).
///
/// Sources: the environment of the process running the import, filtered by `prefix` (used
/// only when `prefix` is given), the dotenv file `env_file`, or both. Only the operator's own
/// process runs one: the `import_env` job kind is retired (see `ImportEnvHandler`).
public struct EnvImportRequest: Codable, Sendable, Equatable {
    public var project: UUID
    public var envFile: String?
    public var prefix: String?
    /// Store `APP_STRIPE_KEY` as `STRIPE_KEY` when the prefix is `APP_`.
    public var stripPrefix: Bool
    /// JSON file `{"properties": {"NAME": {"description": "..."}}}` declaring the names expected.
    public var manifest: String?
    public var onConflict: EnvConflictPolicy
    public var dryRun: Bool

    public init(project: UUID, envFile: String? = nil, prefix: String? = nil, stripPrefix: Bool = false,
                manifest: String? = nil, onConflict: EnvConflictPolicy = .refuse, dryRun: Bool = false) {
        self.project = project
        self.envFile = envFile
        self.prefix = prefix
        self.stripPrefix = stripPrefix
        self.manifest = manifest
        self.onConflict = onConflict
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case project, prefix, manifest
        case envFile = "env_file"
        case stripPrefix = "strip_prefix"
        case onConflict = "on_conflict"
        case dryRun = "dry_run"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            project: try c.decode(UUID.self, forKey: .project),
            envFile: try c.decodeIfPresent(String.self, forKey: .envFile),
            prefix: try c.decodeIfPresent(String.self, forKey: .prefix),
            stripPrefix: try c.decodeIfPresent(Bool.self, forKey: .stripPrefix) ?? false,
            manifest: try c.decodeIfPresent(String.self, forKey: .manifest),
            onConflict: try c.decodeIfPresent(EnvConflictPolicy.self, forKey: .onConflict) ?? .refuse,
            dryRun: try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false)
    }

    /// Writes the project id in canonical lower case, as PostgreSQL prints it.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(AAD.canonical(project), forKey: .project)
        try c.encodeIfPresent(envFile, forKey: .envFile)
        try c.encodeIfPresent(prefix, forKey: .prefix)
        try c.encode(stripPrefix, forKey: .stripPrefix)
        try c.encodeIfPresent(manifest, forKey: .manifest)
        try c.encode(onConflict, forKey: .onConflict)
        try c.encode(dryRun, forKey: .dryRun)
    }

    /// A request with no source, or a `strip_prefix` without a prefix, is a usage mistake.
    public func problem() -> String? {
        if envFile == nil && prefix == nil { return "nothing to import: give an env file, a prefix, or both" }
        if let prefix, prefix.isEmpty { return "an empty prefix would import the whole environment (PATH, HOME...); give one" }
        if stripPrefix && prefix == nil { return "strip_prefix needs a prefix" }
        return nil
    }

    /// How the run is described in reports and in `env_imports.source`: paths and prefix, no values.
    public var sourceDescription: String {
        var parts: [String] = []
        if let envFile { parts.append("file:\(envFile)") }
        if let prefix { parts.append("env:prefix=\(prefix)" + (stripPrefix ? " (stripped)" : "")) }
        if let manifest { parts.append("manifest:\(manifest)") }
        return parts.joined(separator: " + ")
    }
}
