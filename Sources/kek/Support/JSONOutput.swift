import Foundation

/// The old `--json` writer (key strategy `convertToSnakeCase`), left only for the two documents
/// whose types other branches own and have not yet given snake_case coding keys: `kek verify
/// --json` (VerificationReport, a job payload) and `kek bench --json` (Sources/kek/Bench).
/// Everything else prints through `Output.json` (JSONCodec).
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
