import Foundation

/// Where the CLI writes: results to stdout, diagnostics and progress to stderr.
///
/// Every stderr write first flushes stdout (`fflush(NULL)`), so that through a pipe, where
/// stdout is block-buffered, results and progress still appear in the order they happened.
enum Terminal {
    static func error(_ text: String) {
        write("kek: " + text + "\n")
    }

    static func note(_ text: String) {
        write(text + "\n")
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
