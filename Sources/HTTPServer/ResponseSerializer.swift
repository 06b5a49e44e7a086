#if canImport(Glibc)
import Glibc
#endif

/// Writes a response head and body in HTTP/1.1 wire format.
///
/// Framing is owned here, not by handlers: `Content-Length` is always computed from the body
/// (and kept for HEAD, which then omits the body, RFC 9110 §9.3.2), `Connection` reflects the
/// server's decision, and invalid handler-supplied fields are dropped rather than written.
enum ResponseSerializer {
    /// Header names the server owns; handler copies are ignored.
    private static let reserved: Set<String> = ["content-length", "connection", "server", "date", "transfer-encoding"]

    /// Whether the handler asked to close the connection with `Connection: close`.
    static func handlerRequestsClose(_ response: HTTPResponse) -> Bool {
        response.headers.values(for: "Connection").contains { value in
            value.split(separator: ",").contains { $0.trimmingASCIIWhitespace().lowercased() == "close" }
        }
    }

    static func serialize(
        _ response: HTTPResponse,
        omitBody: Bool,
        keepAlive: Bool,
        requestVersion: HTTPVersion,
        date: String? = httpDate()
    ) -> [UInt8] {
        let status = response.status
        let code = (100...999).contains(status.code) ? status.code : 500
        let phrase = isValidFieldValue(status.reasonPhrase) ? status.reasonPhrase : "Status"
        var head = "HTTP/1.1 \(code) \(phrase)\r\nServer: kek\r\n"
        if let date { head += "Date: \(date)\r\n" }
        if !status.forbidsBody {
            head += "Content-Length: \(response.body.count)\r\n"
        }
        if !keepAlive {
            head += "Connection: close\r\n"
        } else if requestVersion == .http1_0 {
            head += "Connection: keep-alive\r\n"
        }
        for field in response.headers where !reserved.contains(field.name.lowercased()) {
            guard ASCII.isToken(field.name.utf8), isValidFieldValue(field.value) else { continue }
            head += "\(field.name): \(field.value)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !omitBody && !status.forbidsBody {
            bytes.append(contentsOf: response.body)
        }
        return bytes
    }

    /// Canned reply for requests rejected before reaching the handler. The body is the
    /// reason phrase only; request bytes are never echoed.
    static func errorReply(_ status: HTTPStatus) -> [UInt8] {
        serialize(.status(status), omitBody: false, keepAlive: false, requestVersion: .http1_1)
    }

    /// Visible ASCII, SP and HTAB only: no CR/LF, so no header injection.
    static func isValidFieldValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == ASCII.tab || (0x20...0x7E).contains($0) }
    }

    /// IMF-fixdate (RFC 9110 §5.6.7), formatted by hand so the locale cannot change it.
    static func httpDate(epochSeconds: Int = time(nil)) -> String {
        var t = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
