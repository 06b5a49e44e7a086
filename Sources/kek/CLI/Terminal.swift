import Foundation
import JobQueue
import Synchronization

/// Where the CLI writes: results to stdout, diagnostics and progress to stderr.
///
/// Every stderr write first flushes stdout (`fflush(NULL)`), so that through a pipe, where
/// stdout is block-buffered, results and progress still appear in the order they happened.
/// After `useJSONLines()` (`kek worker --log-format json`) every diagnostic is a JSON line
/// with `time`, `level` and `message`, so a log shipper never sees a plain line.
enum Terminal {
    private static let jsonLines = Atomic<Bool>(false)

    static func useJSONLines() { jsonLines.store(true, ordering: .relaxed) }

    static func error(_ text: String) {
        if let line = structured(.error, text) { return write(line) }
        write("kek: " + text + "\n")
    }

    static func note(_ text: String) {
        if let line = structured(.info, text) { return write(line) }
        write(text + "\n")
    }

    private static func structured(_ level: LogLevel, _ text: String) -> String? {
        guard jsonLines.load(ordering: .relaxed) else { return nil }
        let object = ["time": JobLogWriter.timestamp(Date()), "level": level.rawValue, "event": "message",
                      "message": text.trimmingCharacters(in: .newlines)]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Rewrites the current stderr line (progress), or prints a new line when not a terminal.
    static func progress(_ text: String) {
        if isatty(2) == 1 {
            write("\r\u{1B}[2K" + text)
        } else {
            note(text)
        }
    }

    static func endProgress() {
        if isatty(2) == 1 { write("\n") }
    }

    private static func write(_ text: String) {
        fflush(nil)
        FileHandle.standardError.write(Data(text.utf8))
    }
}
