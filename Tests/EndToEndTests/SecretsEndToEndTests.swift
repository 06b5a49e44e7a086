import Foundation
import XCTest

final class SecretsEndToEndTests: XCTestCase {
    func testSecretsPutGetListRemove() throws {
        let h = try SecretsHarness()
        let canary = "CANARY-7f3e-put-\(UUID().uuidString)"
        let put = try h.run(["secrets", "put", "--project", h.project, "--description", "webhook token", "API_TOKEN"], stdin: canary)
        XCTAssertEqual(put.status, 0, put.stderr)
        XCTAssertTrue(put.stdout.contains("version 1"), put.stdout)
        let got = try h.run(["secrets", "get", "--project", h.project, "API_TOKEN"])
        XCTAssertEqual(got.stdout, canary, "exact bytes, no newline added")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kek-put-\(UUID())").path
        try Data((canary + "-v2\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let update = try h.run(["secrets", "put", "--project", h.project, "--file", file, "API_TOKEN"])
        XCTAssertTrue(update.stdout.contains("version 2"), update.stdout)
        XCTAssertEqual(try h.run(["secrets", "get", "--project", h.project, "API_TOKEN"]).stdout, canary + "-v2\n")

        let list = try h.run(["secrets", "list", "--project", h.project])
        XCTAssertTrue(list.stdout.contains("API_TOKEN") && list.stdout.contains("stored"), list.stdout)
        let json = try h.run(["secrets", "list", "--project", h.project, "--json"])
        let records = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(records?.first?["version"] as? Int, 2)
        XCTAssertEqual(records?.first?["has_value"] as? Bool, true)

        XCTAssertEqual(try h.run(["secrets", "put", "--project", h.project, "bad-name"], stdin: "x").status, 2)
        XCTAssertEqual(try h.run(["secrets", "get", "--project", h.project, "NOPE"]).status, 1)
        let rm = try h.run(["secrets", "rm", "--project", h.project, "API_TOKEN"])
        XCTAssertEqual(rm.status, 0, rm.stderr)
        XCTAssertTrue(rm.stdout.hasSuffix("and its DEK\n"), rm.stdout)
        XCTAssertEqual(try h.connection.query("SELECT count(*) FROM data_keys")[0].decode(0, as: Int.self), 0)
        let actions: [String] = try h.connection.query(
            "SELECT action FROM audit_log WHERE action LIKE 'secret.%' ORDER BY id").map { try $0.decode(0) }
        XCTAssertEqual(actions, ["secret.created", "secret.accessed", "secret.updated", "secret.accessed", "secret.deleted"])
        try h.assertNoLeak(of: canary)
    }

    func testSigningKeysGenerateListRevokeReactivate() throws {
        let h = try SecretsHarness()
        let generated = try h.run(["signing-keys", "generate", "--project", h.project])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let key = generated.stdout.trimmingCharacters(in: .newlines)
        XCTAssertEqual(Data(base64Encoded: key)?.count, 32, key)
        XCTAssertTrue(generated.stderr.contains("shown only this once"), generated.stderr)
        let id: String = try h.connection.query("SELECT id::text FROM signature_keys")[0].decode(0)

        XCTAssertTrue(try h.run(["signing-keys", "list", "--project", h.project]).stdout.contains("\(id)  active"))
        XCTAssertEqual(try h.run(["signing-keys", "revoke", "--project", h.project, id]).status, 0)
        XCTAssertTrue(try h.run(["signing-keys", "list", "--project", h.project]).stdout.contains("\(id)  revoked"))
        XCTAssertEqual(try h.run(["signing-keys", "revoke", "--project", h.project, id]).status, 1, "already revoked")
        XCTAssertEqual(try h.run(["signing-keys", "reactivate", "--project", h.project, id]).status, 0)
        XCTAssertEqual(try h.run(["signing-keys", "revoke", "--project", UUID().uuidString, id]).status, 1, "other project")
        let actions: [String] = try h.connection.query(
            "SELECT action FROM audit_log WHERE action LIKE 'signing_key.%' ORDER BY id").map { try $0.decode(0) }
        XCTAssertEqual(actions, ["signing_key.generated", "signing_key.revoked", "signing_key.reactivated"])
        // The key was printed once, by generate; nothing else printed or stored it.
        let others = h.outputs.replacingOccurrences(of: generated.stdout, with: "")
        XCTAssertFalse(others.contains(key))
        XCTAssertFalse(try h.dump().contains(key))
    }
}
