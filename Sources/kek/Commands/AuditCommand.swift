import Foundation
import KeyManagement

extension Command {
    static let audit = Command(
        name: "audit",
        abstract: "Read, check and export the hash-chained audit log.",
        subcommands: [auditList, auditVerify, auditHead, auditExport]
    )

    static let auditList = Command.typed(
        "list",
        abstract: "Show the newest audit rows.",
        options: AuditListOptions.self,
        run: { options in
            let entries = try AuditLog.list(try Database.connect(), limit: options.limit, action: options.action)
            if options.json {
                try Output.json(entries)
                return
            }
            print(TextTable.render(["ID", "AT", "LOGIN", "ACTOR", "ACTION", "TARGET", "DETAILS"],
                                   entries.map { [String($0.id), Formatting.time($0.at), $0.login ?? "-", $0.actor, $0.action,
                                                  $0.target ?? "-", $0.details] }))
        }
    )

    static let auditVerify = Command.typed(
        "verify",
        abstract: "Recompute the hash chain; name the first broken row. Exit 1 if broken.",
        discussion: """
            With --head ID:HASH (printed earlier by 'kek audit head' and kept outside the database),
            also fails when that row is gone (the log was truncated) or its hash changed (the
            chain was rewritten), which the chain alone cannot show. An intact chain is recorded
            as an 'audit.verified' row (what the "audit not verified recently" alert reads).
            """,
        options: AuditVerifyOptions.self,
        run: { options in
            let expected = options.head
            let connection = try Database.connect()
            let result = try AuditLog.verify(connection, expecting: expected)
            if options.json {
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
            if options.json { return }
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

    static let auditExport = Command.typed(
        "export",
        abstract: "Write audit rows after an id as JSON lines (one object per row), oldest first.",
        discussion: "For a SIEM: remember the last id written and pass it as --after next time.",
        options: AuditExportOptions.self,
        run: { options in
            let connection = try Database.connect()
            var after = Int64(options.after)
            while true {
                let page = try AuditLog.exportLines(connection, after: after, limit: 5000)
                guard let last = page.last else { return }
                for entry in page { print(entry.line) }
                after = last.id
            }
        }
    )
}

/// `kek audit list`'s options.
struct AuditListOptions: CommandOptions {
    var limit = 50
    var action: String?
    var json = false

    static let fields: [OptionField<Self>] = [
        .value("limit", "N", "How many rows.", \.limit, .int),
        .value("action", "ACTION", "Only this action (e.g. kek.retired).", \.action, .text),
        .flag("json", "Print JSON.", \.json),
    ]
}

/// `kek audit verify`'s options.
struct AuditVerifyOptions: CommandOptions {
    var head: AuditLog.Head?
    var json = false

    static let fields: [OptionField<Self>] = [
        .value("head", "ID:HASH", "A head saved earlier that must still be in the chain.", \.head,
               OptionParser(expectation: "ID:HASH as 'kek audit head' prints it (HASH: 64 hex digits)",
                            parse: { AuditLog.Head(parsing: $0) }, show: { $0.description })),
        .flag("json", "Print JSON: intact, rows, first_broken_row, head_hash, head_problem (exit 1 still when broken).", \.json),
    ]
}

/// `kek audit export`'s options.
struct AuditExportOptions: CommandOptions {
    var after = 0
    static let fields: [OptionField<Self>] = [.value("after", "ID", "Only rows with a larger id.", \.after, .int)]
}
