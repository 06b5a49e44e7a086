/// A response produced by a handler.
///
/// The server adds `Server`, `Date`, `Content-Length` and `Connection` itself and ignores
/// handler-supplied copies of those (and of `Transfer-Encoding`), so framing can never be
/// got wrong by a handler. Fields with names that are not tokens or values containing control
/// characters are dropped when the response is written, which rules out header injection.
/// A handler may set `Connection: close` to end the connection after this response.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// An `application/json` response from already-encoded JSON text.
    public static func json(_ json: String, status: HTTPStatus = .ok) -> HTTPResponse {
        self.json(bytes: Array(json.utf8), status: status)
    }

    /// An `application/json` response from already-encoded JSON bytes (e.g. `JSONEncoder` output).
    public static func json(bytes: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// A short plain-text response whose body is the status line's reason phrase.
    /// Used for errors so that no request bytes are ever echoed back.
    public static func status(_ status: HTTPStatus) -> HTTPResponse {
        text("\(status.code) \(status.reasonPhrase)\n", status: status)
    }

    /// `404 Not Found`.
    public static func notFound() -> HTTPResponse {
        status(.notFound)
    }

    /// `405 Method Not Allowed` with the `Allow` header RFC 9110 §15.5.6 requires.
    public static func methodNotAllowed(allowed methods: [String]) -> HTTPResponse {
        var response = status(.methodNotAllowed)
        response.headers.add(name: "Allow", value: methods.joined(separator: ", "))
        return response
    }
}

/// What the server calls for every complete request. It runs on one of the server's worker
/// threads and may block (briefly); it must not assume any particular thread.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse
