import Foundation
import Synchronization

/// One change in a job's life as a worker saw it: one log line each.
public struct JobEvent: Sendable, Equatable {
    /// claimed, completed, retrying, failed, snoozed, paused, cancelled, released, lease_lost,
    /// or worker-level: worker_started, worker_stopped, scheduled, pruned, error.
    public var event: String
    public var workerID: String
    public var jobID: Int64?
    public var kind: String?
    public var attempt: Int?
    public var progressDone: Int64?
    public var progressTotal: Int64?
    /// A message for people (an error, a retry delay); never a secret: handlers keep key
    /// material out of their errors.
    public var message: String?
    public var durationMilliseconds: Int?

    public init(event: String, workerID: String, jobID: Int64? = nil, kind: String? = nil, attempt: Int? = nil,
                progressDone: Int64? = nil, progressTotal: Int64? = nil, message: String? = nil,
                durationMilliseconds: Int? = nil) {
        self.event = event
        self.workerID = workerID
        self.jobID = jobID
        self.kind = kind
        self.attempt = attempt
        self.progressDone = progressDone
        self.progressTotal = progressTotal
        self.message = message
        self.durationMilliseconds = durationMilliseconds
    }
}

/// Where a worker reports job events (a log, a test's recorder, later metrics).
public protocol JobEventSink: Sendable {
    func record(_ event: JobEvent)
}

/// How much a log line matters, as log shippers name it.
public enum LogLevel: String, Sendable {
    case info, warn, error

    /// A job that failed for good, or a worker-level error, is an error; a retry or a lost
    /// lease is a warning (the work goes on); everything else is information.
    public init(event: String) {
        switch event {
        case "failed", "error": self = .error
        case "retrying", "lease_lost": self = .warn
        default: self = .info
        }
    }
}

/// Writes one line per event: `key=value` text for people, or JSON lines for log shippers,
/// each with `time` (RFC 3339, UTC, `Z`) and `level`. Warnings and errors go to the error
/// descriptor (stderr), the rest to the output descriptor (stdout). Lines from several
/// threads never interleave.
public final class JobLogWriter: JobEventSink {
    public enum Format: String, Sendable {
        case plain, json
    }

    private let format: Format
    private let lock = Mutex<Void>(())
    private let descriptor: Int32
    private let errorDescriptor: Int32

    /// Writes to file descriptors (1: standard output, 2: standard error).
    public init(format: Format, fileDescriptor: Int32 = 1, errorDescriptor: Int32 = 2) {
        self.format = format
        descriptor = fileDescriptor
        self.errorDescriptor = errorDescriptor
    }

    /// The `time` field: RFC 3339 with milliseconds in UTC, e.g. `2026-12-01T21:57:10.123Z`.
    public static func timestamp(_ time: Date) -> String {
        time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public func record(_ event: JobEvent) {
        let line = Self.render(event, format: format, at: Date()) + "\n"
        let descriptor = LogLevel(event: event.event) == .info ? self.descriptor : errorDescriptor
        lock.withLock { _ in
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                if written <= 0 { break }
                offset += written
            }
            bytes.removeAll()
        }
    }

    static func render(_ event: JobEvent, format: Format, at time: Date) -> String {
        var fields: [(String, Any)] = [("time", timestamp(time)), ("level", LogLevel(event: event.event).rawValue),
                                       ("event", event.event), ("worker", event.workerID)]
        if let id = event.jobID { fields.append(("job", id)) }
        if let kind = event.kind { fields.append(("kind", kind)) }
        if let attempt = event.attempt { fields.append(("attempt", attempt)) }
        if let done = event.progressDone { fields.append(("done", done)) }
        if let total = event.progressTotal { fields.append(("total", total)) }
        if let ms = event.durationMilliseconds { fields.append(("ms", ms)) }
        if let message = event.message { fields.append(("message", message)) }
        switch format {
        case .json:
            let object = Dictionary(fields, uniquingKeysWith: { $1 })
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        case .plain:
            return fields.map { key, value in
                let text = "\(value)"
                let needsQuotes = text.contains(" ") || text.contains("\"") || text.contains("=") || text.isEmpty
                let quoted = needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : text
                return "\(key)=\(quoted.replacingOccurrences(of: "\n", with: "\\n"))"
            }.joined(separator: " ")
        }
    }
}
