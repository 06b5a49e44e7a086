import Foundation

/// `--json` output: one document on stdout, keys sorted, dates in ISO 8601.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
