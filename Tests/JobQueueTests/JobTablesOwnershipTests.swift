import Foundation
import XCTest

/// JobQueue owns every SQL statement on the jobs tables (the layering rule in the README):
/// other targets call its typed functions. This scans every Swift file under `Sources`
/// outside `Sources/JobQueue` for string literals that name a jobs table in SQL (after an
/// SQL keyword written in capitals, as this project writes SQL) or call a queue function.
final class JobTablesOwnershipTests: XCTestCase {
    /// Files allowed to keep such SQL, each with the reason. Keep this empty when you can.
    static let allowed: [(prefix: String, reason: String)] = []

    func testNoSwiftFileOutsideJobQueueNamesAJobsTableInSQL() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tables = try Self.jobTables(sqlDirectory: root.appendingPathComponent("sql"))
        // The filter below must not silently become vacuous.
        XCTAssertTrue(Set(["jobs", "workers", "job_schedule_runs", "job_throttles", "job_progress_samples", "job_counters"])
            .isSubset(of: tables), "jobs tables found in sql/: \(tables.sorted())")
        let names = tables.sorted().joined(separator: "|")
        let sql = try NSRegularExpression(pattern:
            "\\b(FROM|JOIN|UPDATE|INTO|TABLE|ANALYZE|VACUUM)\\s+(ONLY\\s+)?(\(names))\\b|to_regclass\\('(\(names))'\\)"
            + "|\\bkek_(claim_job|enqueue_job|job_[a-z_]+|throttle_reserve|archive_deleted_jobs)\\s*\\(")
        var found: [String] = []
        let sources = root.appendingPathComponent("Sources")
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" {
            let relative = String(file.path.dropFirst(root.path.count + 1))
            if relative.hasPrefix("Sources/JobQueue/") || Self.allowed.contains(where: { relative.hasPrefix($0.prefix) }) { continue }
            for literal in Self.stringLiterals(try String(contentsOf: file, encoding: .utf8)) {
                let range = NSRange(literal.startIndex..., in: literal)
                if sql.firstMatch(in: literal, range: range) != nil {
                    found.append("\(relative): \(literal.prefix(120))")
                }
            }
        }
        XCTAssertEqual(found, [], "SQL on the jobs tables outside Sources/JobQueue; add a JobQueue function instead")
    }

    func testScannerFindsSQLInBothLiteralForms() {
        let literals = Self.stringLiterals("""
            let a = "SELECT 1 FROM jobs" // "not this"
            let b = \"\"\"
                UPDATE workers SET x = 1
                \"\"\"
            """)
        XCTAssertEqual(literals.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, ["SELECT 1 FROM jobs", "UPDATE workers SET x = 1"])
    }

    /// Tables and views that migrations create for the queue: `workers` and every `job*` name.
    static func jobTables(sqlDirectory: URL) throws -> Set<String> {
        let create = try NSRegularExpression(pattern: "CREATE\\s+(TABLE|VIEW|(OR\\s+REPLACE\\s+)?VIEW)\\s+(IF\\s+NOT\\s+EXISTS\\s+)?([a-z_]+)",
                                             options: [.caseInsensitive])
        var names = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(at: sqlDirectory, includingPropertiesForKeys: nil)
        where file.pathExtension == "sql" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in create.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let name = String(text[Range(match.range(at: 4), in: text)!]).lowercased()
                if name == "workers" || name.hasPrefix("job") { names.insert(name) }
            }
        }
        return names
    }

    /// The contents of every `"…"` and `"""…"""` literal, skipping `//` comments.
    static func stringLiterals(_ source: String) -> [String] {
        var result: [String] = []
        let chars = Array(source)
        var index = 0
        func at(_ offset: Int, _ text: String) -> Bool {
            let needle = Array(text)
            return index + offset + needle.count <= chars.count && Array(chars[(index + offset)..<(index + offset + needle.count)]) == needle
        }
        while index < chars.count {
            if at(0, "//") {
                while index < chars.count, chars[index] != "\n" { index += 1 }
            } else if at(0, "\"\"\"") {
                index += 3
                var literal = ""
                while index < chars.count, !at(0, "\"\"\"") { literal.append(chars[index]); index += 1 }
                index += 3
                result.append(literal)
            } else if chars[index] == "\"" {
                index += 1
                var literal = ""
                while index < chars.count, chars[index] != "\"", chars[index] != "\n" {
                    if chars[index] == "\\", index + 1 < chars.count { literal.append(chars[index]); index += 1 }
                    literal.append(chars[index]); index += 1
                }
                index += 1
                result.append(literal)
            } else {
                index += 1
            }
        }
        return result
    }
}
