import Foundation
import KeyManagement
import PostgresClient

/// Runs `peer_rewrap.py` on the same rows: a new KEK is activated and the peer moves every
/// DEK from the previous one to it, the way a hand-written Python job would.
struct PeerRewrap {
    let url: String
    let connection: PostgresConnection
    let rootKeys: RootKeys
    let batchSize: Int

    func run(rows: Int) throws -> BenchLine {
        let script = try Self.locateScript()
        let store = KEKStore(connection: connection, actor: "bench-peer")
        let old: Int32 = try connection.query("SELECT id FROM keks WHERE state = 'active'")[0].decode(0)
        let new = try store.generate(rootKeys: rootKeys, activate: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        var environment = ProcessInfo.processInfo.environment
        environment["PEER_DSN"] = url
        environment["PEER_ROOT_KEYS"] = try Self.rootKeyText()
        environment["PEER_OLD_KEK"] = String(old)
        environment["PEER_NEW_KEK"] = String(new)
        environment["PEER_BATCH"] = String(batchSize)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        Terminal.note("peer: Python (psycopg + cryptography) rewrapping \(Formatting.count(rows)) DEKs...")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard process.terminationStatus == 0, fields.count >= 2, let moved = Int(fields[fields.count - 2]),
              let seconds = Double(fields[fields.count - 1]) else {
            throw CommandFailure("the Python peer failed (exit \(process.terminationStatus)); install its packages with "
                + "'pip install \"psycopg[binary]\" cryptography'")
        }
        return BenchLine(name: "peer: Python batched rewrap", rows: moved, seconds: seconds)
    }

    /// The keyring text for the peer, read from where kek itself read it.
    static func rootKeyText() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let inline = environment["KEK_ROOT_KEYS"] { return inline }
        guard let path = environment["KEK_ROOT_KEYS_FILE"] else { throw CommandFailure("no root keys configured") }
        return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `Sources/kek/Bench/peer_rewrap.py` of the checkout this binary was built from.
    static func locateScript() throws -> String {
        var folder = URL(fileURLWithPath: Database.executablePath()).deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("Sources/kek/Bench/peer_rewrap.py").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        throw CommandFailure("cannot find Sources/kek/Bench/peer_rewrap.py next to this build")
    }
}
