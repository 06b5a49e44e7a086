import Foundation

/// The names a service expects, with descriptions: `{"properties": {"NAME": {"description": "..."}}}`
/// (the shape of a JSON Schema object, so an existing config schema can serve as manifest).
/// Names the sources lack become stubs: rows with a description and no value yet.
public struct EnvManifest: Decodable, Sendable {
    public struct Property: Decodable, Sendable {
        public var description: String?
    }

    public var properties: [String: Property]

    /// Reads and decodes `path`; a file that is not such JSON is an error naming the file.
    public static func load(path: String) throws -> EnvManifest {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw EnvImportError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(EnvManifest.self, from: data)
        } catch {
            throw EnvImportError.unreadable(
                path: path, reason: "not a manifest ({\"properties\": {\"NAME\": {\"description\": \"...\"}}}): \(error)")
        }
    }
}
