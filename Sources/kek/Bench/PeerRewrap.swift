import Foundation
import KeyManagement
import PostgresClient

/// Runs `peer_rewrap.py`, the fair Python peer, on the same rows: it moves every DEK of KEK
/// `old` to the active KEK `new` with kek's read (plus a lock) and kek's guarded move (handed
/// over here, so the two cannot drift apart), the same batch size and the same AAD.
struct PeerRewrap {
    let url: String
    let batchSize: Int

    /// The peer's batch as issue #19 defines it, what a competent engineer writes without
    /// overlapping crypto and I/O: lock a batch with `FOR UPDATE SKIP LOCKED` (kek's read plus
    /// the lock), rewrap, move it with kek's own `UPDATE … FROM unnest`, commit.
    static let lockBatchSQL = Rewrap.readBatchSQL + " FOR UPDATE SKIP LOCKED"
    static let moveBatchSQL = Rewrap.moveBatchSQL

    static let packages = "pip install \"psycopg[binary]>=3.2\" cryptography"

    func run(from old: Int32, to new: Int32, crypto: Bool) throws -> (rows: Int, seconds: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", try Self.locateScript()]
        var environment = ProcessInfo.processInfo.environment
        environment["PEER_DSN"] = url
        environment["PEER_ROOT_KEYS"] = try Self.rootKeyText()
        environment["PEER_OLD_KEK"] = String(old)
        environment["PEER_NEW_KEK"] = String(new)
        environment["PEER_BATCH"] = String(batchSize)
        environment["PEER_LOCK_SQL"] = Self.lockBatchSQL
        environment["PEER_MOVE_SQL"] = Self.moveBatchSQL
        environment["PEER_CRYPTO"] = crypto ? "1" : "0"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        Terminal.note("Python peer (psycopg 3\(crypto ? " + cryptography" : ", no crypto")) on the same rows...")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard process.terminationStatus == 0, fields.count >= 2, let moved = Int(fields[fields.count - 2]),
              let seconds = Double(fields[fields.count - 1]) else {
            throw CommandFailure("the Python peer failed (exit \(process.terminationStatus)); install its packages with '\(Self.packages)'")
        }
        return (moved, seconds)
    }

    /// Whether python3 can import the peer's packages, checked before seeding anything.
    static func packagesInstalled() -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import psycopg, cryptography; psycopg.RawCursor"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
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
