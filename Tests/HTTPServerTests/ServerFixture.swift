import Foundation
import HTTPTestSupport
import XCTest
@testable import HTTPServer

/// The routes every server test uses; domain-free stand-ins for status, metrics and one POST.
func makeTestRouter() -> HTTPRouter {
    var router = HTTPRouter()
    router.add("GET", "/healthz") { _ in .text("ok\n") }
    router.add("GET", "/status") { _ in .json(#"{"state":"idle"}"#) }
    router.add("POST", "/rotate") { request in .json("{\"received\":\(request.body.count)}", status: .accepted) }
    router.add("GET", "/query") { request in .text(request.query == nil ? "none" : "some") }
    return router
}

extension XCTestCase {
    /// Starts a server on an ephemeral loopback port and stops it when the test ends.
    func startServer(
        _ configuration: HTTPServer.Configuration = HTTPServer.Configuration(),
        handler: HTTPHandler? = nil
    ) throws -> (HTTPServer, UInt16) {
        let server = HTTPServer(configuration: configuration, handler: handler ?? makeTestRouter().handler)
        let port = try server.start()
        addTeardownBlock { XCTAssertTrue(server.stop(timeout: .seconds(5))) }
        return (server, port)
    }

    /// Sends `request` on a fresh connection and returns the first response (nil if the server just closed).
    func exchange(_ port: UInt16, _ request: String, bodyExpected: Bool = true) throws -> RawClient.Response? {
        let client = try RawClient(port: port)
        client.send(request)
        return client.readResponse(bodyExpected: bodyExpected)
    }
}

func elapsed(since start: UInt64) -> Double {
    Double(MonotonicClock.now() - start) / 1e9
}
