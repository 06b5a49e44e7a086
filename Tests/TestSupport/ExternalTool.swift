import Foundation

/// Runs an operator tool (promtool, systemd-analyze, softhsm2-util, a Python validator) the way
/// the tests' acceptance criteria name it, and captures what it printed: the one process runner
/// of the test helpers (the `kek` binary has its own, `KekBinary`, which keeps stdout and stderr apart).
public enum ExternalTool {
    public struct Outcome {
        public var status: Int32
        /// stdout and stderr together, in the order the tool wrote them.
        public var output: String
    }

    /// The checkout's root folder (Package.swift, sql/, jobs/, runbooks/).
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
    }

    /// The full path of `name` on PATH, or nil when it is not installed.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` with `arguments` in `directory` to its end; `stdin` is written to its
    /// input (no input at all when nil).
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil, stdin: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let input = stdin.map { _ in Pipe() }
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()
        if let input, let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs `promtool check metrics` on `text` (a `/metrics` exposition).
    public static func promtoolCheck(_ text: String) throws -> Outcome {
        try run("/usr/bin/promtool", ["check", "metrics"], stdin: text)
    }
}
