import Foundation
import TestSupport

/// Runs the built `kek` binary as a user would, with its own environment.
struct KekBinary {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Which database login kek runs as: a login granted only `kek_worker` unless a test needs
    /// the owner (`kek migrate`, or the superuser's view).
    enum Login {
        case worker, owner
    }

    var environment: [String: String]

    init(databaseURL: String?, extra: [String: String] = [:], as login: Login = .worker) {
        var env = ProcessInfo.processInfo.environment
        switch (login, databaseURL) {
        case (.worker, let url?):
            do { env["DATABASE_URL"] = try TestLogins.url(url, login: TestLogins.worker, memberOf: "kek_worker") } catch {
                preconditionFailure("cannot create the test's kek_worker login: \(error)")
            }
        default:
            env["DATABASE_URL"] = databaseURL
        }
        if databaseURL == nil { env.removeValue(forKey: "DATABASE_URL") }
        env.merge(extra) { $1 }
        environment = env
    }

    static var path: String { TestDatabase.buildDirectory.appendingPathComponent("kek").path }

    /// Starts `kek` with `arguments` and returns the running process (for kill tests).
    func start(_ arguments: [String], stdin: String? = nil, stdout: FileHandle? = nil, stderr: FileHandle? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.path)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        if let stdin {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(Data(stdin.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        return process
    }

    /// Runs `kek` to its end and captures what it printed.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil) throws -> Outcome {
        let folder = FileManager.default.temporaryDirectory
        let outPath = folder.appendingPathComponent("kek-out-\(UUID())").path
        let errPath = folder.appendingPathComponent("kek-err-\(UUID())").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = try start(arguments, stdin: stdin, stdout: out, stderr: err)
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Outcome(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }

    /// Sends `signal` (SIGTERM, SIGKILL, SIGSTOP, SIGCONT) to a started `kek`.
    func send(_ signal: Int32, to process: Process) {
        kill(process.processIdentifier, signal)
    }

    /// Waits up to `timeout` seconds for a started `kek` to exit; false when it is still running.
    func waitForExit(_ process: Process, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }

    /// Starts `kek` with stdout and stderr appended to a log file, returned for reading.
    func startLogged(_ arguments: [String], name: String) throws -> (process: Process, log: URL) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("kek-\(name)-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = try start(arguments, stdout: handle, stderr: handle)
        try handle.close()
        return (process, log)
    }
}
