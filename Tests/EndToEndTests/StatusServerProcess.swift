import Foundation

/// Waits for `kek serve` / `kek worker --status-listen` to print its address, and returns it.
enum StatusServerProcess {
    static func waitForAddress(log: URL, process: Process, timeout: Double = 20) throws -> (base: String, port: UInt16) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "status listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = UInt16(digits) { return ("http://127.0.0.1:\(port)", port) }
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw NoAddress(description: "no 'status listening on' line from kek: \(text)")
    }

    struct NoAddress: Error, CustomStringConvertible {
        var description: String
    }
}
