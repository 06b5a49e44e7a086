import Foundation

/// A real third-party HTTP client for tests of the servers: `/usr/bin/curl` run as a subprocess.
/// CI installs curl; a missing curl fails the test rather than skipping it.
public enum Curl {
    public struct Response {
        public var status: Int
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: Data
        /// The status line and header lines as the server sent them, ending in the blank line.
        public var head: String
        public var contentType: String { headers["content-type"] ?? "" }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var milliseconds: Double
        /// What `curl -i` prints: the head as sent, then the body.
        public var transcript: String { head + text }

        /// The body as a JSON object; throws with the body when it is not one.
        public func jsonObject() throws -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw Failure(description: "not a JSON object (status \(status)): \(text)")
            }
            return object
        }
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
        let headText = String(decoding: head, as: UTF8.self)
        let lines = headText.components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw Failure(description: "curl \(method) \(url): no status line in \(lines)")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let data = (try? Data(contentsOf: bodyFile)) ?? Data()
        return Response(status: code, headers: fields, body: data, head: headText, milliseconds: elapsed)
    }
}
