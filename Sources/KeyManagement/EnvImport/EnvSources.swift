import Foundation

/// One value found in a source, checked and ready to compare or store.
struct EnvCandidate {
    var name: String
    var value: SecretBytes
    var origin: String
    var line: Int?
    var variable: String?
    var description: String?
}

/// Everything the sources hold: valid candidates, every invalid entry, declared names.
struct EnvCollected {
    var candidates: [EnvCandidate] = []
    var invalid: [EnvImportReport.Entry] = []
    /// Manifest names in name order, with their descriptions.
    var declared: [(name: String, description: String?)] = []
}

/// Reads the env file, the environment and the manifest of a request and checks every entry,
/// collecting all problems instead of stopping at the first.
enum EnvSources {
    /// Largest env file read: generous for 10,000+ variables, bounded so a wrong path
    /// (a database dump) is refused quickly.
    static let maxFileBytes = 64 * 1024 * 1024

    static func collect(_ request: EnvImportRequest, environment: [String: String]) throws -> EnvCollected {
        var collected = EnvCollected()
        var seen: [String: Int] = [:]  // name -> index in candidates
        let manifest = try request.manifest.map { try EnvManifest.load(path: $0) }
        let descriptions = manifest?.properties.compactMapValues(\.description) ?? [:]

        if let path = request.envFile {
            let file: SecretBytes
            do {
                file = try SecretInput.read(path: path, limit: maxFileBytes)
            } catch let error as SecretStoreError {
                throw EnvImportError.unreadable(path: path, reason: "\(error)")
            }
            let parsed = DotEnv.parse(file.bytes)
            file.wipe()
            for problem in parsed.problems {
                collected.invalid.append(.init(name: SecretName.validated(problem.name) ?? "", status: .invalid, origin: "file", line: problem.line,
                                               reason: problem.reason))
            }
            for entry in parsed.entries {
                if let problem = SecretName.problem(entry.name) ?? valueProblem(entry.value) {
                    collected.invalid.append(.init(name: SecretName.validated(entry.name) ?? "", status: .invalid, origin: "file",
                                                   line: entry.line, reason: problem))
                } else if let first = seen[entry.name] {
                    collected.invalid.append(.init(name: entry.name, status: .invalid, origin: "file", line: entry.line,
                                                   reason: "defined again (first on line \(collected.candidates[first].line ?? 0))"))
                } else {
                    seen[entry.name] = collected.candidates.count
                    collected.candidates.append(EnvCandidate(name: entry.name, value: entry.value, origin: "file", line: entry.line,
                                                             description: descriptions[entry.name]))
                }
            }
        }

        if let prefix = request.prefix {
            // Swift Strings from the environment cannot be wiped; only the byte copy made here is.
            for (variable, text) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix(prefix) {
                let name = request.stripPrefix ? String(variable.dropFirst(prefix.count)) : variable
                let value = SecretBytes(Array(text.utf8))
                let shownVariable = request.stripPrefix ? SecretName.validated(variable) : nil
                if let problem = SecretName.problem(name) ?? reservedProblem(variable) ?? valueProblem(value) {
                    collected.invalid.append(.init(name: SecretName.validated(name) ?? "", status: .invalid, origin: "env",
                                                   variable: shownVariable, reason: problem))
                } else if let first = seen[name] {
                    if !collected.candidates[first].value.constantTimeEquals(value.bytes) {
                        collected.invalid.append(.init(
                            name: name, status: .invalid, origin: "env", variable: shownVariable,
                            reason: "the env file (line \(collected.candidates[first].line ?? 0)) and the environment give different values"))
                    }
                } else {
                    seen[name] = collected.candidates.count
                    collected.candidates.append(EnvCandidate(name: name, value: value, origin: "env", variable: shownVariable,
                                                             description: descriptions[name]))
                }
            }
        }

        for name in (manifest?.properties.keys).map(Array.init)?.sorted() ?? [] {
            if let problem = SecretName.problem(name) {
                collected.invalid.append(.init(name: "", status: .invalid, origin: "manifest", reason: problem))
            } else if seen[name] == nil {
                collected.declared.append((name, descriptions[name]))
            }
        }
        // A mangled name may hold part of a value: reports carry a name only once it is valid.
        collected.invalid.sort { ($0.line ?? .max, $0.origin, $0.name) < ($1.line ?? .max, $1.origin, $1.name) }
        return collected
    }

    /// kek's own configuration and the database's connection settings are never imported from
    /// an environment, whatever the prefix: they hold the root keys, the status token and
    /// database passwords of the process running the import.
    static func reservedProblem(_ variable: String) -> String? {
        guard variable.hasPrefix("KEK_") || variable == "DATABASE_URL" || variable.hasPrefix("PG") else { return nil }
        return "KEK_*, DATABASE_URL and PG* variables are kek's and the database's own configuration; never imported"
    }

    /// Why a value cannot be stored, or nil. Checked on the bytes without making a String
    /// (a String copy of a value could not be wiped).
    static func valueProblem(_ value: SecretBytes) -> String? {
        if value.count > SecretName.maxValueBytes {
            return "value is \(value.count) bytes; the limit is \(SecretName.maxValueBytes)"
        }
        if value.bytes.contains(0) { return "value contains a NUL byte" }
        var iterator = value.bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return nil
            case .error: return "value is not valid UTF-8"
            }
        }
    }
}
