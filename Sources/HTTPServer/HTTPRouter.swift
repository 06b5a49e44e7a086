/// An exact-match method + path table.
///
/// Exists so every endpoint gets the same 404 / 405 behaviour without each handler repeating
/// it. Paths are compared byte for byte (no patterns, no percent-decoding, query ignored).
/// `HEAD` is served by the `GET` route unless registered separately; the server drops the body.
public struct HTTPRouter: Sendable {
    private var routes: [String: [String: HTTPHandler]] = [:]

    public init() {}

    /// Registers `handler` for `method` (e.g. `"GET"`) on `path` (e.g. `"/healthz"`), replacing any earlier one.
    public mutating func add(_ method: String, _ path: String, _ handler: @escaping HTTPHandler) {
        routes[path, default: [:]][method] = handler
    }

    /// The methods `path` answers, as listed in `Allow`, or empty for an unknown path.
    public func allowedMethods(for path: String) -> [String] {
        guard let methods = routes[path] else { return [] }
        var allowed = Set(methods.keys)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        return allowed.sorted()
    }

    /// Routes `request`: the matching handler, else `404` for an unknown path or `405` with `Allow`.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard let methods = routes[request.path] else { return .notFound() }
        if let handler = methods[request.method] ?? (request.method == "HEAD" ? methods["GET"] : nil) {
            return handler(request)
        }
        return .methodNotAllowed(allowed: allowedMethods(for: request.path))
    }

    /// This router as a server handler.
    public var handler: HTTPHandler {
        { [self] request in handle(request) }
    }
}
