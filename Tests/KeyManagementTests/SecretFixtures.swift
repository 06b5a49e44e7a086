import Foundation
import KeyManagement
import PostgresClient

extension KeyFixture {
    /// A fixture with an active KEK, and the ciphers to use it.
    static func withActiveKEK() throws -> (KeyFixture, KEKCiphers) {
        let f = try KeyFixture()
        try f.store.generate(rootKeys: f.rootKeys, activate: true)
        return (f, KEKCiphers(connection: f.connection, rootKeys: f.rootKeys))
    }

    /// A digest of every row of `table`, to prove a refused operation changed nothing.
    func digest(_ table: String) throws -> String {
        try connection.query("SELECT coalesce(md5(string_agg(row_to_json(t)::text, E'\\n' ORDER BY row_to_json(t)::text)), '') FROM \(table) t")[0]
            .decode(0)
    }
}

extension SecretBytes {
    /// A copy for assertions (tests only: production code never copies values out).
    var testCopy: [UInt8] { withUnsafeBytes { Array($0) } }
    convenience init(_ text: String) { self.init(Array(text.utf8)) }
}

/// Writes `text` (or bytes) to a new temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], suffix: String = ".env") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kek-test-\(UUID())\(suffix)").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

func temporaryFile(_ text: String, suffix: String = ".env") throws -> String { try temporaryFile(Array(text.utf8), suffix: suffix) }
