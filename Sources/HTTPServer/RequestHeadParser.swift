/// Limits the parser enforces; a subset of `HTTPServer.Configuration`.
struct HeadLimits: Sendable {
    var maxHeadBytes: Int
    var maxHeaderCount: Int
    var maxBodyBytes: Int
}

/// A parsed and validated request head.
struct RequestHead: Sendable, Equatable {
    var method: String
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers: HTTPHeaders
    /// 0 when there was no `Content-Length`.
    var contentLength: Int
    /// Whether the connection may be reused after the response (RFC 9112 §9.3).
    var keepAlive: Bool
    /// `Expect: 100-continue` was sent with a body.
    var expectsContinue: Bool
}

/// Finds the end of a request head incrementally, rejecting bad input as early as possible.
///
/// The scanner keeps its position between calls, so a client trickling bytes costs O(n) in
/// total, not O(n²). It fails fast, before the head is complete, on:
/// - any byte outside printable ASCII, SP and HTAB (control bytes, DEL, non-ASCII) → 400;
/// - a bare LF or a bare CR. Line endings must be CRLF; bare LF is refused, not tolerated,
///   consistently everywhere in the head (RFC 9112 §2.2 allows either choice) → 400;
/// - an invalid request line, as soon as its CRLF arrives (so an HTTP/0.9-style
///   `GET /` gets its 400 at once instead of waiting for the deadline) → 400 / 505;
/// - a header line starting with SP or HTAB (obs-fold, RFC 9112 §5.2) → 400;
/// - more than `maxHeaderCount` header lines, or `maxHeadBytes` bytes without the
///   terminating empty line → 431.
/// Empty lines before the request line are skipped (RFC 9112 §2.2 "SHOULD ignore").
struct HeadScanner: Sendable, Equatable {
    private(set) var position = 0
    private var lineStart = 0
    private var lineCount = 0

    enum Outcome: Equatable {
        case needMore
        case complete(headLength: Int)
        case reject(HTTPStatus)
    }

    init() {}

    mutating func scan(_ buffer: [UInt8], limits: HeadLimits) -> Outcome {
        while position < buffer.count {
            if position >= limits.maxHeadBytes { return .reject(.requestHeaderFieldsTooLarge) }
            let byte = buffer[position]
            if byte == ASCII.lf {
                guard position > 0, buffer[position - 1] == ASCII.cr else { return .reject(.badRequest) }
                let lineEnd = position - 1
                if lineEnd == lineStart {
                    if lineCount > 0 {
                        position += 1
                        return .complete(headLength: position)
                    }
                    // Leading empty line before the request line: skip it.
                } else if lineCount == 0 {
                    if case .failure(let status) = RequestHeadParser.parseRequestLine(buffer[lineStart..<lineEnd]) {
                        return .reject(status)
                    }
                    lineCount += 1
                } else {
                    let first = buffer[lineStart]
                    if first == ASCII.space || first == ASCII.tab { return .reject(.badRequest) }
                    if lineCount > limits.maxHeaderCount { return .reject(.requestHeaderFieldsTooLarge) }
                    lineCount += 1
                }
                lineStart = position + 1
            } else if position > 0 && buffer[position - 1] == ASCII.cr {
                return .reject(.badRequest)
            } else if !(byte == ASCII.cr || byte == ASCII.tab || (0x20...0x7E).contains(byte)) {
                return .reject(.badRequest)
            }
            position += 1
        }
        return .needMore
    }
}

/// Like `Result`, but failing with a status (which is not an `Error`).
enum Parsed<Value> {
    case success(Value)
    case failure(HTTPStatus)
}

extension Parsed: Sendable where Value: Sendable {}
extension Parsed: Equatable where Value: Equatable {}

enum ASCII {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let question: UInt8 = 63
    static let slash: UInt8 = 47

    /// RFC 9110 §5.6.2 `tchar`.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    static func isToken<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        !bytes.isEmpty && bytes.allSatisfy(isTokenByte)
    }

    static func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
}

/// Turns a complete head (as delimited by `HeadScanner`) into a `RequestHead`, applying the
/// RFC 9112 framing rules that matter for safety:
/// - exactly one `Host` in HTTP/1.1 (RFC 9112 §3.2) → else 400;
/// - `Transfer-Encoding` is not supported: with `Content-Length` → 400 (smuggling shape),
///   alone → 501; bodies must be sent with `Content-Length`;
/// - `Content-Length` must appear at most once and be 1–18 digits → else 400;
///   above `maxBodyBytes` → 413;
/// - `Expect` other than `100-continue` → 417.
enum RequestHeadParser {
    static func parse(_ head: ArraySlice<UInt8>, limits: HeadLimits) -> Parsed<RequestHead> {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == ASCII.lf {
                lines.append(head[start..<(index - 1)])
                start = index + 1
            }
            index += 1
        }
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { return .failure(.badRequest) }
        let parsedLine: (method: String, target: ArraySlice<UInt8>, version: HTTPVersion)
        switch parseRequestLine(requestLine) {
        case .success(let value): parsedLine = value
        case .failure(let status): return .failure(status)
        }

        var headers = HTTPHeaders()
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ASCII.colon) else { return .failure(.badRequest) }
            let name = line[line.startIndex..<colon]
            guard ASCII.isToken(name) else { return .failure(.badRequest) }
            var value = line[(colon + 1)...]
            while let b = value.first, b == ASCII.space || b == ASCII.tab { value.removeFirst() }
            while let b = value.last, b == ASCII.space || b == ASCII.tab { value.removeLast() }
            headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }
        guard headers.count <= limits.maxHeaderCount else { return .failure(.requestHeaderFieldsTooLarge) }

        let hosts = headers.values(for: "Host")
        if hosts.count > 1 || (parsedLine.version == .http1_1 && hosts.isEmpty) { return .failure(.badRequest) }

        let lengths = headers.values(for: "Content-Length")
        if headers.contains("Transfer-Encoding") {
            return .failure(lengths.isEmpty ? .notImplemented : .badRequest)
        }
        var contentLength = 0
        if !lengths.isEmpty {
            guard lengths.count == 1, let text = lengths.first, (1...18).contains(text.utf8.count),
                  text.utf8.allSatisfy(ASCII.isDigit), let value = Int(text)
            else { return .failure(.badRequest) }
            guard value <= limits.maxBodyBytes else { return .failure(.contentTooLarge) }
            contentLength = value
        }

        var expectsContinue = false
        if let expect = headers["Expect"] {
            guard expect.lowercased() == "100-continue" else { return .failure(.expectationFailed) }
            expectsContinue = contentLength > 0
        }

        let connectionTokens = headers.values(for: "Connection")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIIWhitespace().lowercased() }
        let keepAlive: Bool
        if connectionTokens.contains("close") {
            keepAlive = false
        } else if parsedLine.version == .http1_0 {
            keepAlive = connectionTokens.contains("keep-alive")
        } else {
            keepAlive = true
        }

        let target = parsedLine.target
        let path: String
        let query: String?
        if let mark = target.firstIndex(of: ASCII.question) {
            path = String(decoding: target[target.startIndex..<mark], as: UTF8.self)
            query = String(decoding: target[(mark + 1)...], as: UTF8.self)
        } else {
            path = String(decoding: target, as: UTF8.self)
            query = nil
        }
        return .success(RequestHead(
            method: parsedLine.method, path: path, query: query, version: parsedLine.version,
            headers: headers, contentLength: contentLength, keepAlive: keepAlive, expectsContinue: expectsContinue
        ))
    }

    /// `method SP origin-form SP HTTP/1.x`, with single spaces. A missing version (HTTP/0.9
    /// style) or any other shape → 400; a well-formed version other than 1.0/1.1 → 505.
    static func parseRequestLine(
        _ line: ArraySlice<UInt8>
    ) -> Parsed<(method: String, target: ArraySlice<UInt8>, version: HTTPVersion)> {
        let parts = line.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.badRequest) }
        let method = parts[0], target = parts[1], version = Array(parts[2])
        guard ASCII.isToken(method) else { return .failure(.badRequest) }
        guard target.first == ASCII.slash, target.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return .failure(.badRequest)
        }
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)),
              ASCII.isDigit(version[5]), version[6] == UInt8(ascii: "."), ASCII.isDigit(version[7])
        else { return .failure(HTTPStatus.badRequest) }
        let major = Int(version[5] - UInt8(ascii: "0")), minor = Int(version[7] - UInt8(ascii: "0"))
        guard major == 1, minor <= 1 else { return .failure(HTTPStatus.httpVersionNotSupported) }
        return .success((String(decoding: method, as: UTF8.self), target, HTTPVersion(major: major, minor: minor)))
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
