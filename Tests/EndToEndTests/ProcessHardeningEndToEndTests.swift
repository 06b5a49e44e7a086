import Foundation
import HTTPTestSupport
import TestSupport
import XCTest

/// A running worker, seen from outside: not dumpable, no core file, and its status server
/// answers only the Host names it was configured for.
final class ProcessHardeningEndToEndTests: XCTestCase {
    func testRunningWorkerIsNotDumpableHasNoCoreLimitAndRefusesAForeignHost() throws {
        let url = try TestDatabase.migrated()
        var kek = KekBinary(databaseURL: url, extra: ["KEK_ROOT_KEYS": TestRootKey.line])
        kek.environment.removeValue(forKey: "KEK_ROOT_KEYS_FILE")
        let arguments = ["worker", "--worker-id", "hardened", "--no-schedules", "--poll-interval", "1s",
                         "--status-listen", "127.0.0.1:0", "--status-allow-host", "kek.internal"]
        // Not dumpable shows as /proc/<pid>/* owned by root instead of the process's user, so a
        // root test runs the worker as the postgres user (it can reach the suite's socket).
        // setpriv execs in place, so the pid is the worker's own.
        let asUser = getuid() == 0
            ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--", KekBinary.path] : [KekBinary.path]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("kek-hardened-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: asUser[0])
        worker.arguments = Array(asUser.dropFirst()) + arguments
        worker.environment = kek.environment
        worker.standardOutput = handle
        worker.standardError = handle
        worker.standardInput = FileHandle.nullDevice
        try worker.run()
        try handle.close()
        defer {
            worker.terminate()
            worker.waitUntilExit()
        }
        let (base, port) = try StatusServerProcess.waitForAddress(log: log, process: worker)
        let pid = worker.processIdentifier

        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        XCTAssertTrue(status.contains("Name:\tkek"), status)
        let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().first.map(String.init)
        XCTAssertNotEqual(uid, "0", "the worker runs as an ordinary user")
        var info = stat()
        XCTAssertEqual(stat("/proc/\(pid)/status", &info), 0)
        XCTAssertEqual(info.st_uid, 0, "/proc/\(pid)/status is owned by root: the worker set PR_SET_DUMPABLE 0 (its uid is \(uid ?? "?"))")

        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        XCTAssertEqual(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2), ["0", "0"], core)

        XCTAssertEqual(try Curl.request(base + "/healthz").status, 200)
        for path in ["/healthz", "/status", "/metrics", "/readyz"] {
            let foreign = try Curl.request(base + path, headers: ["Host: attacker.example"])
            XCTAssertEqual(foreign.status, 403, "\(path) answered Host: attacker.example")
            XCTAssertFalse(foreign.text.contains("kek_"), foreign.text)
            XCTAssertEqual(try Curl.request(base + path, headers: ["Host: attacker.example:\(port)"]).status, 403)
        }
        XCTAssertEqual(try Curl.request(base + "/status", headers: ["Host: localhost:\(port)"]).status, 200)
        XCTAssertEqual(try Curl.request(base + "/status", headers: ["Host: kek.internal:\(port)"]).status, 200)
        print("hardened worker pid \(pid): uid \(uid ?? "?"), /proc owner \(info.st_uid), \(core)")
    }

    func testNonLoopbackListenWithoutTokenIsAUsageError() throws {
        let kek = KekBinary(databaseURL: "postgresql:///unused?host=/nonexistent", as: .owner)
        let out = try kek.run(["serve", "--listen", "0.0.0.0:0", "--no-schedules"])
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains("non-loopback"), out.stderr)
    }

    func testNonFiniteAndAbsurdDurationsAreUsageErrors() throws {
        let kek = KekBinary(databaseURL: "postgresql:///unused?host=/nonexistent", as: .owner)
        for arguments in [["jobs", "enqueue", "noop", "--max-run-time", "infs"], ["worker", "--retention", "infd"],
                          ["worker", "--shutdown-timeout", "infs"], ["worker", "--lease", "nans"],
                          ["jobs", "enqueue", "noop", "--delay", "1e300d"], ["jobs", "enqueue", "noop", "--priority", "99999999999"]] {
            let out = try kek.run(arguments)
            XCTAssertEqual(out.status, 2, "\(arguments): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains("expects"), "\(arguments): \(out.stderr)")
        }
    }
}

extension ProcessHardeningEndToEndTests {
    /// Where RLIMIT_MEMLOCK is too small to lock key memory, kek goes on with one warning.
    /// (Root has CAP_IPC_LOCK and ignores the limit, so a root test drops to the postgres user.)
    func testTooSmallMemlockLimitGivesOneWarningAndGoesOn() throws {
        let kek = KekBinary(databaseURL: "postgresql:///unused?host=/nonexistent",
                            extra: ["KEK_ROOT_KEYS": TestRootKey.line + ",r2:" + Data(repeating: 9, count: 32).base64EncodedString()],
                            as: .owner)
        let drop = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"] : []
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--memlock=0:0"] + drop + [KekBinary.path, "secrets", "list", "--project", UUID().uuidString]
        process.environment = kek.environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(text.components(separatedBy: "cannot mlock key memory").count - 1, 1, text)
        XCTAssertTrue(text.contains("RLIMIT_MEMLOCK is 0 bytes"), text)
        XCTAssertTrue(text.contains("could not connect"), "it went on to the database: \(text)")
    }
}
