import Foundation
import KeyManagement
import XCTest

/// The dotenv dialect, on bytes.
extension SecretStoreTests {
    private func values(_ text: String) -> [String: String] {
        let parsed = DotEnv.parse(Array(text.utf8))
        XCTAssertEqual(parsed.problems, [], "\(parsed.problems)")
        return Dictionary(uniqueKeysWithValues: parsed.entries.map { ($0.name, String(decoding: $0.value.testCopy, as: UTF8.self)) })
    }

    func testDotEnvEveryQuotingRule() {
        let text = """
            # a comment
               # an indented comment

            PLAIN=value
            SPACED =  padded value   
            export EXPORTED=yes
            TRAILING=abc # comment
            HASH_IN_WORD=pa#ss
            EMPTY=
            SINGLE='literal \\n $HOME "q" # not a comment'
            SINGLE_COMMENT='x' # comment
            DOUBLE="tab\\there\\nnew \\"quoted\\" back\\\\slash"
            UNKNOWN_ESCAPE="C:\\dir"
            MULTI="line one
            line two"
            EQUALS=a=b=c
            CRLF=windows\r
            URL=postgres://u:p@h:5432/db?sslmode=require
            """
        let v = values(text)
        XCTAssertEqual(v["PLAIN"], "value")
        XCTAssertEqual(v["SPACED"], "padded value")
        XCTAssertEqual(v["EXPORTED"], "yes")
        XCTAssertEqual(v["TRAILING"], "abc")
        XCTAssertEqual(v["HASH_IN_WORD"], "pa#ss")
        XCTAssertEqual(v["EMPTY"], "")
        XCTAssertEqual(v["SINGLE"], "literal \\n $HOME \"q\" # not a comment")
        XCTAssertEqual(v["SINGLE_COMMENT"], "x")
        XCTAssertEqual(v["DOUBLE"], "tab\there\nnew \"quoted\" back\\slash")
        XCTAssertEqual(v["UNKNOWN_ESCAPE"], "C:\\dir")
        XCTAssertEqual(v["MULTI"], "line one\nline two")
        XCTAssertEqual(v["EQUALS"], "a=b=c")
        XCTAssertEqual(v["CRLF"], "windows")
        XCTAssertEqual(v["URL"], "postgres://u:p@h:5432/db?sslmode=require")
        XCTAssertEqual(v.count, 14)
    }

    func testDotEnvLineNumbersFollowMultiLineValues() {
        let parsed = DotEnv.parse(Array("A=\"1\n2\n3\"\nB=x\n".utf8))
        XCTAssertEqual(parsed.entries.map(\.line), [1, 4])
    }

    func testDotEnvEveryBrokenLineIsReportedWithoutItsText() {
        let text = """
            GOOD=1
            just-a-secret-looking-line
            BAD_SINGLE='unterminated
            AFTER='x' trailing
            OK=2
            NEVER="closed
            """
        let parsed = DotEnv.parse(Array(text.utf8))
        XCTAssertEqual(parsed.problems.map(\.line), [2, 3, 4, 6])
        XCTAssertEqual(parsed.entries.map(\.name), ["GOOD", "OK"])
        XCTAssertFalse(parsed.problems.contains { $0.reason.contains("secret-looking") || $0.reason.contains("unterminated") || $0.reason.contains("trailing") })
    }
}
