import Foundation
import KeyManagement

extension Command {
    static let audit = Command(
        name: "audit",
        abstract: "Read, check and export the hash-chained audit log.",
        subcommands: [auditList, auditVerify, auditHead, auditExport]
    )

    static let auditList = Command(
        name: "list",
        abstract: "Show the newest audit rows.",
        options: [
            .value("limit", "N", "How many rows.", default: "50"),
            .value("action", "ACTION", "Only this action (e.g. kek.retired)."),
            .flag("json", "Print JSON."),
        ],
        run: { arguments in
            let entries = try AuditLog.list(try Database.connect(), limit: try arguments.int("limit") ?? 50,
                                            action: arguments.string("action"))
            if arguments.flag("json") {
                try Output.json(entries)
                return
            }
            print(TextTable.render(["ID", "AT", "LOGIN", "ACTOR", "ACTION", "TARGET", "DETAILS"],
                                   entries.map { [String($0.id), Formatting.time($0.at), $0.login ?? "-", $0.actor, $0.action,
                                                  $0.target ?? "-", $0.details] }))
        }
    )

    static let auditVerify = Command(
        name: "verify",
        abstract: "Recompute the hash chain; name the first broken row. Exit 1 if broken.",
        discussion: """
            With --head ID:HASH (printed earlier by 'kek audit head' and kept outside the database),
            also fails when that row is gone (the log was truncated) or its hash changed (the
            chain was rewritten), which the chain alone cannot show. An intact chain is recorded
            as an 'audit.verified' row (what the "audit not verified recently" alert reads).
            """,
        options: [
            .value("head", "ID:HASH", "A head saved earlier that must still be in the chain."),
            .flag("json", "Print JSON: intact, rows, first_broken_row, head_hash, head_problem (exit 1 still when broken)."),
        ],
        run: { arguments in
            var expected: AuditLog.Head?
            if let text = arguments.string("head") {
                guard let head = AuditLog.Head(parsing: text) else {
                    throw CommandFailure("--head must be ID:HASH as 'kek audit head' prints it (HASH: 64 hex digits), not '\(text)'")
                }
                expected = head
            }
            let connection = try Database.connect()
            let result = try AuditLog.verify(connection, expecting: expected)
            if arguments.flag("json") {
                try Output.json(result)
            }
            if let broken = result.firstBrokenRow {
                throw CommandFailure("audit chain broken at row \(broken) (of \(result.rows)); rows from there on cannot be trusted")
            }
            if let problem = result.headProblem { throw CommandFailure("audit chain not anchored: \(problem)") }
            // Recorded after the check, so the head printed is the one verified; the row itself
            // is chained like any other and anchors the "verified recently" metric.
            try AuditLog.append(connection, actor: Actor.current, action: .auditVerified, target: nil,
                                details: ["rows": .int(Int64(result.rows)), "head_hash": .text(result.headHash ?? "")])
            if arguments.flag("json") { return }
            print("audit chain intact: \(result.rows) rows, head \(result.head?.description ?? "-")"
                  + (expected.map { ", contains saved head \($0.id)" } ?? ""))
            print("keep the head outside the database ('kek audit head') and check it with 'kek audit verify --head ID:HASH'")
        }
    )

    static let auditHead = Command(
        name: "head",
        abstract: "Print the chain's head as ID:HASH, to keep outside the database.",
        run: { _ in
            guard let head = try AuditLog.head(try Database.connect()) else {
                throw CommandFailure("the audit log is empty: no head yet")
            }
            print(head.description)
        }
    )

    static let auditExport = Command(
        name: "export",
        abstract: "Write audit rows after an id as JSON lines (one object per row), oldest first.",
        discussion: "For a SIEM: remember the last id written and pass it as --after next time.",
        options: [.value("after", "ID", "Only rows with a larger id.", default: "0")],
        run: { arguments in
            let connection = try Database.connect()
            var after = Int64(try arguments.int("after") ?? 0)
            while true {
                let page = try AuditLog.exportLines(connection, after: after, limit: 5000)
                guard let last = page.last else { return }
                for entry in page { print(entry.line) }
                after = last.id
            }
        }
    )
}
