import Foundation

/// The one rule for a job payload that does not decode: the job fails permanently (the stored
/// bytes do not change between attempts), with a message that names the job, its kind, the
/// type and where the mismatch is, and never any byte of the payload (a decoder's own text can
/// quote it: "invalid String value …", "unexpected character … around …").
enum PayloadDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from text: String, what: String, jobID: Int64?, kind: String) throws -> T {
        do {
            return try JSONCodec.decode(T.self, from: text)
        } catch {
            let job = jobID.map { "job \($0) (\(kind))" } ?? "a \(kind) job"
            throw PermanentJobError("\(job): \(what) cannot be decoded as \(T.self): \(reason(error))")
        }
    }

    /// What went wrong, from the error's kind and coding path only. Errors the payload types
    /// throw themselves (bounds checks) are the types' own words and are kept.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the top level" : "'" + keys.joined(separator: ".") + "'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "'\(key.stringValue)' is missing at \(path(context))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null, expected \(type)"
        case .typeMismatch(let type, let context):
            return "\(path(context)) is not \(type)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)) holds a value the type does not accept"
        @unknown default:
            return "does not match"
        }
    }
}
