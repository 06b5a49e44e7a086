import Foundation
import HTTPTestSupport
import StatusAPI
import TestSupport
import XCTest

/// The OpenAPI document against the running server: for each path and method, the server
/// answers with a documented status code and that response's content type; error codes
/// that a test can provoke are provoked; and `/status` has every required property.
final class OpenAPIConformanceTests: XCTestCase {
    private var document: [String: Any] {
        get throws { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any]) }
    }

    func testEveryPathAnswersAsDocumented() throws {
        let fixture = try StatusFixture()
        try fixture.seed(10)
        let token = "tok-\(UUID().uuidString)"
        let (server, base) = try StatusFixture.start(try fixture.configuration(token: token))
        defer { server.stop() }
        let paths = try XCTUnwrap(try document["paths"] as? [String: [String: Any]])
        XCTAssertEqual(Set(paths.keys), ["/healthz", "/readyz", "/status", "/api/v1/kek/status", "/metrics", "/openapi.json",
                                         "/api/v1/kek/rotate"])
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try XCTUnwrap((operation as? [String: Any])?["responses"] as? [String: Any], "\(method) \(path)")
                let authorized = try Curl.request(base + path, method: method.uppercased(), headers: ["Authorization: Bearer \(token)"])
                try check(authorized, against: responses, "\(method) \(path)")
                XCTAssertLessThan(authorized.status, 300, "\(method) \(path) with the token: \(authorized.text)")
                if responses["401"] != nil {
                    let refused = try Curl.request(base + path, method: method.uppercased())
                    XCTAssertEqual(refused.status, 401, "\(method) \(path) without the token")
                    try check(refused, against: responses, "\(method) \(path) without the token")
                }
                // The Host check applies to every path, before the token: documented everywhere.
                XCTAssertNotNil(responses["403"], "\(method) \(path) documents the Host refusal")
                let foreign = try Curl.request(base + path, method: method.uppercased(),
                                               headers: ["Authorization: Bearer \(token)", "Host: attacker.example"])
                XCTAssertEqual(foreign.status, 403, "\(method) \(path) with a foreign Host")
                try check(foreign, against: responses, "\(method) \(path) with a foreign Host")
                if responses["400"] != nil {
                    let bad = try Curl.request(base + path, method: method.uppercased(),
                                               headers: ["Authorization: Bearer \(token)"], body: "not json")
                    XCTAssertEqual(bad.status, 400)
                    try check(bad, against: responses, "\(method) \(path) with a bad body")
                }
            }
        }
        // The documented 503 of the reads, on a schema the server does not expect. /metrics
        // answers 200 with kek_status_refresh_success 0 instead (a value, not a failed scrape).
        var behind = try fixture.configuration()
        behind.expectedSchemaVersion = try StatusFixture.latestSchemaVersion + 1
        let (stale, staleBase) = try StatusFixture.start(behind)
        defer { stale.stop() }
        for path in ["/readyz", "/status", "/metrics"] {
            let response = try Curl.request(staleBase + path)
            XCTAssertEqual(response.status, path == "/metrics" ? 200 : 503, path)
            try check(response, against: try XCTUnwrap((paths[path]?["get"] as? [String: Any])?["responses"] as? [String: Any]), path)
        }
    }

    func testStatusHasEveryRequiredProperty() throws {
        let fixture = try StatusFixture()
        try fixture.seed(10)
        try fixture.connection.execute("INSERT INTO workers (id, host, pid) VALUES ('w1', 'h', 1)")
        let token = "tok-\(UUID().uuidString)"
        let (server, base) = try StatusFixture.start(try fixture.configuration(token: token))
        defer { server.stop() }
        // A job with parts, so the nested schemas are exercised too.
        let rotation = try Curl.request(base + "/api/v1/kek/rotate", method: "POST", headers: ["Authorization: Bearer \(token)"])
        let jobID = try XCTUnwrap((try JSONSerialization.jsonObject(with: rotation.body) as? [String: Any])?["job_id"] as? Int)
        try fixture.connection.execute("""
            INSERT INTO jobs (kind, parent_id, unique_key) VALUES ('rewrap_part', $1, 'p1')
            """, [Int64(jobID)])
        Thread.sleep(forTimeInterval: 0.5)
        let status = try Curl.request(base + "/status")
        let body = try JSONSerialization.jsonObject(with: status.body)
        let schemas = try XCTUnwrap((try document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var checked = 0
        try validate(body, schema: ["$ref": "#/components/schemas/StatusReport"], schemas: schemas, at: "$", checked: &checked)
        XCTAssertGreaterThan(checked, 60, "properties checked")
    }

    // MARK: - Helpers

    private func check(_ response: Curl.Response, against responses: [String: Any], _ label: String) throws {
        let components = try XCTUnwrap((try document["components"] as? [String: Any])?["responses"] as? [String: Any])
        guard var documented = responses[String(response.status)] as? [String: Any] else {
            return XCTFail("\(label): \(response.status) is not a documented response (\(responses.keys.sorted()))")
        }
        if let ref = documented["$ref"] as? String, let name = ref.split(separator: "/").last {
            documented = try XCTUnwrap(components[String(name)] as? [String: Any])
        }
        let types = try XCTUnwrap(documented["content"] as? [String: Any], "\(label): no content documented").keys
        XCTAssertTrue(types.contains { response.contentType.lowercased().hasPrefix($0) },
                      "\(label): content type \(response.contentType) is not one of \(types.sorted())")
    }

    /// Checks `value` against a schema subset: `$ref`, `allOf`, `type`, `required`, `nullable`, `properties`, `items`.
    private func validate(_ value: Any, schema: [String: Any], schemas: [String: Any], at path: String, checked: inout Int) throws {
        var schema = schema
        if let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last {
            schema = try XCTUnwrap(schemas[String(name)] as? [String: Any], "unknown schema \(ref)")
        }
        if value is NSNull {
            XCTAssertEqual(schema["nullable"] as? Bool, true, "\(path) is null but not nullable")
            return
        }
        if let all = schema["allOf"] as? [[String: Any]] {
            for part in all { try validate(value, schema: part, schemas: schemas, at: path, checked: &checked) }
            return
        }
        switch schema["type"] as? String {
        case "object":
            let object = try XCTUnwrap(value as? [String: Any], "\(path) is not an object")
            for name in schema["required"] as? [String] ?? [] {
                XCTAssertTrue(object.keys.contains(name), "\(path) lacks required property \(name)")
            }
            for (name, property) in schema["properties"] as? [String: [String: Any]] ?? [:] {
                guard let child = object[name] else { continue }
                checked += 1
                try validate(child, schema: property, schemas: schemas, at: "\(path).\(name)", checked: &checked)
            }
        case "array":
            let array = try XCTUnwrap(value as? [Any], "\(path) is not an array")
            XCTAssertFalse(array.isEmpty, "\(path) is empty in this test's data, so its items go unchecked")
            for (index, item) in array.enumerated() {
                try validate(item, schema: schema["items"] as? [String: Any] ?? [:], schemas: schemas, at: "\(path)[\(index)]",
                             checked: &checked)
            }
        case "string": XCTAssertTrue(value is String, "\(path) is not a string")
        case "integer": XCTAssertTrue((value as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } ?? false,
                                      "\(path) is not an integer")
        case "number": XCTAssertTrue(value is NSNumber, "\(path) is not a number")
        case "boolean": XCTAssertTrue(value is Bool, "\(path) is not a boolean")
        default: break
        }
    }
}
