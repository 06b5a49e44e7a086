/// The shared secret of the control endpoint (`KEK_STATUS_TOKEN`).
///
/// A type of its own so the token cannot end up in a log line or an error by accident: its
/// description is redacted, and the only thing it does is compare in constant time.
public struct BearerToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let bytes: [UInt8]

    /// Nil for an empty token: an empty secret would match an empty header.
    public init?(_ text: String) {
        guard !text.isEmpty else { return nil }
        bytes = Array(text.utf8)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// Why a request is not authorized: recorded in the audit row (never the value sent).
    public enum Refusal: String, Sendable {
        case missing, malformed, wrong
    }

    /// Checks an `Authorization` header value: nil when it is `Bearer <this token>`.
    public func check(authorization: String?) -> Refusal? {
        guard let authorization else { return .missing }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .malformed }
        return matches(Array(parts[1].utf8)) ? nil : .wrong
    }

    /// Constant-time comparison: the time depends only on the expected token's length, so
    /// response timing does not reveal how many leading bytes a guess got right.
    func matches(_ presented: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == bytes.count ? 0 : 1
        for index in bytes.indices {
            difference |= bytes[index] ^ (index < presented.count ? presented[index] : 0)
        }
        return difference == 0
    }
}
