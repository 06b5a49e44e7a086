import KeyManagement

extension Command {
    static let verify = Command.typed(
        "verify",
        abstract: "Open every KEK and DEK (and with --values every secret); exit 1 on any failure.",
        discussion: "Each failing row is named with the reason. A passing run is what 'kek keys destroy' requires.",
        options: VerifyOptions.self,
        run: { options in
            let session = try KeySession.open()
            var verifier = Verifier(connection: session.connection, rootKeys: session.rootKeys)
            verifier.progress = { Terminal.progress("verified \(Formatting.count($0)) DEKs") }
            let report = try verifier.run(openValues: options.values, actor: Actor.current)
            Terminal.endProgress()
            if options.json {
                // Still the old writer: VerificationReport is a job payload whose snake_case coding keys
                // come with the typed job boundary (w3-jobs); switch to Output.json after that merge.
                try Output.json(report)
                try KEKHealthOutput.report(session.connection, rootKeys: session.rootKeys, json: true)
            } else {
                for (kek, count) in report.deksPerKek.sorted(by: { $0.key < $1.key }) {
                    print("KEK \(kek): \(Formatting.count(count)) DEKs open")
                }
                for kek in report.unopenableRetiredKEKs {
                    print("KEK \(kek): retired, no DEKs, cannot be opened by this keyring: nothing to verify under it (not a failure)")
                }
                for failure in report.failures { print("FAILED \(failure.table) \(failure.id): \(failure.reason)") }
                try KEKHealthOutput.report(session.connection, rootKeys: session.rootKeys, json: false)
                print("checked \(report.keksChecked) KEKs, \(Formatting.count(report.deksChecked)) DEKs, "
                    + "\(Formatting.count(report.valuesChecked)) values: \(report.failures.count) failures")
            }
            if !report.passed { throw CommandFailure("verification failed for \(report.failures.count) rows") }
        }
    )
}

/// `kek verify`'s options.
struct VerifyOptions: CommandOptions {
    var values = false
    var json = false

    static let fields: [OptionField<Self>] = [
        .flag("values", "Also decrypt every project secret and signing key.", \.values),
        .flag("json", "Print JSON.", \.json),
    ]
}
