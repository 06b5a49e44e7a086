import Foundation

/// A real HTTP client for tests of the status server: `/usr/bin/curl` run as a subprocess.
/// CI installs curl; a missing curl fails the test rather than skipping it.
public enum Curl {
    public struct Response {
        public var status: Int
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: Data
        public var contentType: String { headers["content-type"] ?? "" }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var milliseconds: Double
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// One request; `headers` as `Name: value` lines.
    public static func request(_ url: String, method: String = "GET", headers: [String] = [], body: String? = nil,
                               timeout: Double = 5) throws -> Response {
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID()).body")
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        var arguments = ["-s", "-S", "--max-time", String(timeout), "-D", "-", "-o", bodyFile.path]
        arguments += method == "HEAD" ? ["-I"] : ["-X", method]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body] }
        arguments.append(url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let started = Date()
        try process.run()
        let head = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let elapsed = Date().timeIntervalSince(started) * 1000
        guard process.terminationStatus == 0 else {
            throw Failure(description: "curl \(method) \(url) exited \(process.terminationStatus): "
                + String(decoding: stderr, as: UTF8.self))
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw Failure(description: "curl \(method) \(url): no status line in \(lines)")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let data = (try? Data(contentsOf: bodyFile)) ?? Data()
        return Response(status: code, headers: fields, body: data, milliseconds: elapsed)
    }

    /// Runs `promtool check metrics` on `text`; returns its exit status and output.
    public static func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        try ToolRun.run("/usr/bin/promtool", ["check", "metrics"], stdin: text)
    }
}
