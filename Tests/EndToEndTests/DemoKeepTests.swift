import Foundation
import TestSupport
import XCTest

/// `kek demo --keep` prints commands that work as printed: the exports, kek by its full
/// path, and a stop command that works for the user who ran it (root included).
final class DemoKeepTests: XCTestCase {
    func testKeepPrintsCommandsThatWork() throws {
        // The kept server inherits a descriptor Foundation's Process waits on, so the demo only
        // counts as exited once the server is stopped: read its log until the stop line appears.
        let kek = KekBinary(databaseURL: nil)
        let (process, log) = try kek.startLogged(["demo", "--keep", "--secrets", "300"], name: "demo-keep")
        var text = ""
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline, text.firstMatch(of: /stop it with:\n  .*rm -rf \S+\n/) == nil {
            Thread.sleep(forTimeInterval: 0.2)
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        let lines = text.split(separator: "\n").map(String.init)
        let stop = lines.firstIndex { $0.hasPrefix("stop it with:") }.map { lines[$0 + 1].trimmingCharacters(in: .whitespaces) }
        defer {
            if let stop { _ = try? ExternalTool.run("/bin/sh", ["-c", stop]) }
            if process.isRunning { kek.send(SIGKILL, to: process) }
            try? FileManager.default.removeItem(at: log)
        }
        let demo = (stdout: text, stderr: text)
        let exports = lines.filter { $0.hasPrefix("  export ") }
        XCTAssertEqual(exports.count, 2, demo.stdout)
        let tries = lines.filter { $0.hasPrefix("  /") && $0.contains("/kek ") }
        XCTAssertTrue(tries.contains { $0.hasSuffix("/kek keys list") }, demo.stdout)
        let script = (exports + [try XCTUnwrap(tries.first { $0.hasSuffix("/kek projects list") })]).joined(separator: "\n")
        let listed = try ExternalTool.run("/bin/sh", ["-c", script])
        XCTAssertEqual(listed.status, 0, listed.output)
        XCTAssertTrue(listed.output.contains("PROJECT"), listed.output)

        let command = try XCTUnwrap(stop, demo.stdout)
        let folder = try XCTUnwrap(command.firstMatch(of: /rm -rf (\S+)/).map { String($0.1) })
        let stopped = try ExternalTool.run("/bin/sh", ["-c", command])
        XCTAssertEqual(stopped.status, 0, stopped.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "the stop command leaves \(folder)")
        let keyFile = try XCTUnwrap(exports.first { $0.contains("KEK_ROOT_KEYS_FILE=") }?.split(separator: "=").last.map(String.init))
        XCTAssertFalse(FileManager.default.fileExists(atPath: keyFile), "the stop command leaves the ephemeral root key \(keyFile)")
        XCTAssertTrue(kek.waitForExit(process, timeout: 30))
        XCTAssertEqual(process.terminationStatus, 0, demo.stderr)
    }
}
