import Foundation

/// A secret-bearing environment variable and its `_FILE` twin, as container images and
/// systemd credentials expect: `DATABASE_URL` or `DATABASE_URL_FILE=/run/secrets/db-url`.
///
/// The file's content is the value with its trailing newline removed. Setting both is a
/// usage error (which one wins would be a guess). The value is never echoed in an error.
enum EnvironmentSecret {
    static func value(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        let inline = environment[name].flatMap { $0.isEmpty ? nil : $0 }
        let path = environment[name + "_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        switch (inline, path) {
        case (nil, nil):
            return nil
        case (let value?, nil):
            return value
        case (nil, let path?):
            guard let text = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("\(name)_FILE names '\(path)', which cannot be read")
            }
            let value = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .newlines)
            return value.isEmpty ? nil : value
        case (_?, _?):
            throw UsageError("both \(name) and \(name)_FILE are set; set only one")
        }
    }
}
