import Foundation
import HTTPServer

/// The endpoints, their authorization and their answers from the snapshot.
struct StatusRoutes: Sendable {
    let configuration: StatusConfiguration
    let store: SnapshotStore
    let database: SharedConnection
    let refusals: RefusalAudit

    var router: HTTPRouter {
        var router = HTTPRouter()
        router.add("GET", "/healthz") { _ in .text("ok\n") }
        router.add("GET", "/readyz", reading { _ in readiness() })
        router.add("GET", "/status", reading { _ in status() })
        router.add("GET", "/api/v1/kek/status", reading { _ in status() })
        router.add("GET", "/metrics", reading { _ in metrics() })
        router.add("GET", "/openapi.json", reading { _ in .json(bytes: Array(OpenAPIDocument.json.utf8)) })
        if let token = configuration.token {
            router.add("POST", "/api/v1/kek/rotate", authorized(token) { [database, configuration] request in
                RotationEndpoint.handle(request, database: database, actor: configuration.actor)
            })
        }
        return router
    }

    /// A read endpoint: open unless `requireTokenForReads`.
    private func reading(_ handler: @escaping HTTPHandler) -> HTTPHandler {
        guard configuration.requireTokenForReads, let token = configuration.token else { return handler }
        return authorized(token, handler)
    }

    private func authorized(_ token: BearerToken, _ handler: @escaping HTTPHandler) -> HTTPHandler {
        { [refusals] request in
            if let refusal = token.check(authorization: request.headers["Authorization"]) {
                refusals.record(method: request.method, path: request.path, refusal: refusal)
                var response = ErrorBody.response(.unauthorized, "a valid 'Authorization: Bearer <token>' header is required")
                response.headers.add(name: "WWW-Authenticate", value: #"Bearer realm="kek""#)
                return response
            }
            return handler(request)
        }
    }

    private func readiness() -> HTTPResponse {
        let snapshot = store.current
        guard let answered = snapshot.databaseAnsweredAt, Date().timeIntervalSince(answered) <= configuration.readinessWindow,
              let version = snapshot.schemaVersion else {
            // No error text: it names the host, port, database and user.
            return .text("not ready: database unreachable\n", status: .serviceUnavailable)
        }
        if let expected = configuration.expectedSchemaVersion, version != expected {
            return .text("not ready: database schema is at version \(version), expected \(expected)\n", status: .serviceUnavailable)
        }
        let closed = (configuration.processReadiness?() ?? []).filter { !$0.ready }
        if !closed.isEmpty {
            let reasons = closed.map { "\($0.name) jobs not claimed: \($0.reason ?? "unknown")" }.joined(separator: "; ")
            return .text("not ready: \(reasons)\n", status: .serviceUnavailable)
        }
        return .text("ready: schema version \(version)\n")
    }

    private func status() -> HTTPResponse {
        fresh(\.json) { .json(bytes: $0) }
    }

    private func metrics() -> HTTPResponse {
        let gates = configuration.processReadiness?() ?? []
        return fresh(\.metrics) {
            HTTPResponse(headers: ["Content-Type": PrometheusExposition.contentType], body: $0 + StatusMetrics.gates(gates))
        }
    }

    /// Serves a snapshot field, or 503 when there is none or it is too old to be the truth.
    private func fresh(_ field: KeyPath<StatusSnapshot, [UInt8]?>, _ respond: ([UInt8]) -> HTTPResponse) -> HTTPResponse {
        let snapshot = store.current
        guard let body = snapshot[keyPath: field], let at = snapshot.reportedAt,
              Date().timeIntervalSince(at) <= configuration.staleAfter else {
            return ErrorBody.response(.serviceUnavailable, snapshot.lastError == nil ? "status unavailable: no report yet"
                                        : "status unavailable: the last refresh failed (the reason is in the server's log)")
        }
        var response = respond(body)
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }
}
