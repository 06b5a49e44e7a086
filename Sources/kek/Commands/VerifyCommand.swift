import KeyManagement

extension Command {
    static let verify = Command(
        name: "verify",
        abstract: "Open every KEK and DEK (and with --values every secret); exit 1 on any failure.",
        discussion: "Each failing row is named with the reason. A passing run is what 'kek keys destroy' requires.",
        options: [
            .flag("values", "Also decrypt every project secret and signing key."),
            .flag("json", "Print JSON."),
        ],
        run: { arguments in
            let session = try KeySession.open()
            var verifier = Verifier(connection: session.connection, rootKeys: session.rootKeys)
            verifier.progress = { Terminal.progress("verified \(Formatting.count($0)) DEKs") }
            let report = try verifier.run(openValues: arguments.flag("values"), actor: Actor.current)
            Terminal.endProgress()
            if arguments.flag("json") {
                try JSONOutput.print(report)
                try KEKHealthOutput.report(session.connection, rootKeys: session.rootKeys, json: true)
            } else {
                for (kek, count) in report.deksPerKek.sorted(by: { $0.key < $1.key }) {
                    print("KEK \(kek): \(Formatting.count(count)) DEKs open")
                }
                for failure in report.failures { print("FAILED \(failure.table) \(failure.id): \(failure.reason)") }
                for kek in report.unopenedRetiredKeks {
                    print("KEK \(kek): retired and not openable by this keyring; no DEK is under it, so not a failure")
                }
                try KEKHealthOutput.report(session.connection, rootKeys: session.rootKeys, json: false)
                print("checked \(report.keksChecked) KEKs, \(Formatting.count(report.deksChecked)) DEKs, "
                    + "\(Formatting.count(report.valuesChecked)) values: \(report.failures.count) failures")
            }
            if !report.passed { throw CommandFailure("verification failed for \(report.failures.count) rows") }
        }
    )
}
