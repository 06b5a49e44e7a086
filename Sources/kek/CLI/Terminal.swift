import Foundation

/// Where the CLI writes: results to stdout, diagnostics and progress to stderr.
enum Terminal {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("kek: " + text + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Rewrites the current stderr line (progress), or prints a new line when not a terminal.
    static func progress(_ text: String) {
        if isatty(2) == 1 {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
        } else {
            note(text)
        }
    }

    static func endProgress() {
        if isatty(2) == 1 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
