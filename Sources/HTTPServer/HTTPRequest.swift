/// The protocol version from the request line. Only 1.0 and 1.1 are accepted.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A complete, validated request as handed to the handler.
///
/// By the time a handler sees one, the head has passed every check in `RequestHeadParser`
/// (ASCII only, CRLF line endings, size and count caps, a single valid `Content-Length`) and
/// the body, if any, has been read in full. `path` and `query` are the raw bytes of the
/// request target, split at the first `?`; nothing is percent-decoded, so routing compares
/// exactly what was sent.
public struct HTTPRequest: Sendable {
    /// The method token exactly as sent (case-sensitive, e.g. `GET`).
    public var method: String
    /// The request target up to the first `?`. Always starts with `/`.
    public var path: String
    /// The part after the first `?`, or nil when there was no `?`.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The body; empty unless the request had a `Content-Length` within `maxBodyBytes`.
    public var body: [UInt8]
    /// Who is at the other end of the connection (nil when unknown, e.g. a request built in a test).
    public var peer: PeerAddress?

    public init(
        method: String,
        path: String,
        query: String? = nil,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        peer: PeerAddress? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.peer = peer
    }
}
