import Foundation
import KeyManagement
import XCTest

/// Watching and stopping the worker processes of the root key tests.
enum FleetLogs {
    /// A root key line with an id the store never used (a fresh `kek keygen` line).
    static let strangerLine = "root-fresh:" + Data(repeating: 99, count: 32).base64EncodedString()
    /// The scenario's root key id with another key (a stale or mistyped Secret).
    static let impostorLine = "r1:" + Data(repeating: 43, count: 32).base64EncodedString()

    static func text(_ log: URL) -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    static func occurrences(of needle: String, in log: URL) -> Int {
        text(log).components(separatedBy: needle).count - 1
    }

    /// Polls the log until it holds `needle` (progress observed, not slept for).
    static func waitFor(_ needle: String, in log: URL, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text(log).contains(needle) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return text(log).contains(needle)
    }

    /// SIGTERM, then the exit status (a worker that does not stop in time fails the test).
    static func stop(_ worker: (process: Process, log: URL), _ kek: KekBinary,
                     file: StaticString = #filePath, line: UInt = #line) {
        kek.send(SIGTERM, to: worker.process)
        XCTAssertTrue(kek.waitForExit(worker.process, timeout: 30), "worker did not stop", file: file, line: line)
        XCTAssertEqual(worker.process.terminationStatus, 0, text(worker.log), file: file, line: line)
    }
}
