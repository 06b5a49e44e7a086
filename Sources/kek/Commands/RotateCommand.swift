import Foundation
import JobQueue
import KeyManagement

extension Command {
    static let rotate = Command(
        name: "rotate",
        abstract: "Rotate the KEK: activate a new one and rewrap every DEK under it, on the running workers.",
        discussion: """
            Enqueues a rotate_kek job (one at a time: a second 'kek rotate' reports the running one).
            Workers ('kek worker') split it into parts and rewrap in batches; the old KEK is retired
            once no DEK is left under it. Pause or resume it with 'kek jobs pause|resume ID'.
            """,
        options: [
            .flag("wait", "Show progress until the rotation ends."),
            .flag("plan", "Write nothing; report what a rotation would touch."),
            .value("batch-size", "N", "DEKs per batch transaction.", default: String(RotationArguments.defaultBatchSize)),
            .value("parts", "N", "Parts the DEK id space is split into for parallel workers.",
                   default: String(RotationArguments.defaultParts)),
            .value("max-rate", "ROWS_PER_S", "Cap on rows per second for the whole rotation."),
            .flag("json", "Print JSON (with --plan)."),
        ],
        run: { arguments in
            let connection = try Database.connect()
            if arguments.flag("plan") {
                try printPlan(try RotationPlan.make(connection), json: arguments.flag("json"))
                return
            }
            let rotationArguments = RotationArguments(
                batchSize: try arguments.int("batch-size"), parts: try arguments.int("parts"),
                maxRate: try arguments.int("max-rate").map(Double.init))
            guard (rotationArguments.batchSize ?? 1) > 0, (rotationArguments.parts ?? 1) > 0 else {
                throw UsageError("kek rotate: --batch-size and --parts must be positive")
            }
            // Refuse here what a worker would refuse: a keyring that cannot open the KEKs in use.
            let session = try KeySession.open()
            try KeyringProof.require(session.connection, session.rootKeys, actor: session.actor)
            let job = try JobQueue(connection: connection).enqueue(KeyJobKinds.rotationRequest(rotationArguments))
            print(job.inserted ? "rotation enqueued as job \(job.id)" : "a rotation is already queued or running: job \(job.id)")
            if arguments.flag("wait") { try JobWaiter.wait(connection, jobID: job.id, label: "rotation") }
        }
    )

    static func printPlan(_ plan: RotationPlan, json: Bool) throws {
        if json { return try JSONOutput.print(plan) }
        print("A rotation would generate and activate a new KEK and rewrap \(Formatting.count(plan.deksToRewrap)) DEKs:")
        print(TextTable.render(["KEK", "STATE", "DEKS", "WRAPS", "HEADROOM"], plan.keks.map {
            [String($0.id), $0.state, Formatting.count($0.deks), Formatting.count($0.wrapCount), Formatting.count($0.wrapHeadroom)]
        }))
        if !plan.projects.isEmpty {
            print(TextTable.render(["PROJECT", "SECRETS", "SIGNING KEYS"], plan.projects.map {
                [$0.projectId.uuidString.lowercased(), Formatting.count($0.secrets), Formatting.count($0.signingKeys)]
            }))
        }
        if let rate = plan.measuredRate, let seconds = plan.estimatedSeconds {
            print("estimated time: \(Formatting.duration(seconds)) at \(Formatting.count(Int(rate))) rows/s (last rotation's rate)")
        } else {
            print("estimated time: unknown (no finished rotation to measure a rate from)")
        }
        print("wrap limit per KEK: \(Formatting.count(plan.wrapLimit)) (NIST SP 800-38D 8.3)")
    }

    static let reencrypt = Command(
        name: "reencrypt",
        abstract: "After a compromise: give every value under the given KEKs a new DEK and a new ciphertext.",
        options: [
            .value("kek", "ID[,ID]", "The compromised KEK(s)."),
            .flag("all", "Every KEK (every DEK and value is replaced)."),
            .value("batch-size", "N", "DEKs per batch transaction.", default: "200"),
            .flag("wait", "Show progress until it ends."),
        ],
        run: { arguments in
            let ids = try (arguments.string("kek") ?? "").split(separator: ",").map { text -> Int32 in
                guard let id = Int32(text) else { throw UsageError("kek reencrypt: --kek takes KEK ids, got '\(text)'") }
                return id
            }
            guard ids.isEmpty != arguments.flag("all") else { throw UsageError("kek reencrypt: give either --kek ID or --all") }
            let connection = try Database.connect()
            let job = try JobQueue(connection: connection).enqueue(JobRequest(
                kind: KeyJobKinds.reencryption,
                argumentsJSON: try JobJSON.encode(ReencryptArguments(
                    kekIds: ids.isEmpty ? nil : ids, all: arguments.flag("all") ? true : nil,
                    batchSize: try arguments.int("batch-size"))),
                maxAttempts: 10, uniqueKey: "reencrypt"))
            print(job.inserted ? "re-encryption enqueued as job \(job.id)" : "a re-encryption is already queued or running: job \(job.id)")
            if arguments.flag("wait") { try JobWaiter.wait(connection, jobID: job.id, label: "re-encryption") }
        }
    )

    static let rotateRoot = Command(
        name: "rotate-root",
        abstract: "Re-wrap every KEK under the active (first) root key of KEK_ROOT_KEYS.",
        discussion: "Afterwards the root keys it lists as unused can be removed from KEK_ROOT_KEYS (runbooks/root-key-rotation.md).",
        run: { _ in
            let session = try KeySession.open()
            let outcome = try RootRotation.run(session.connection, rootKeys: session.rootKeys, actor: Actor.current)
            print("\(outcome.rewrapped.count) KEKs re-wrapped under root key '\(outcome.activeRootID)'")
            print(outcome.unusedRootIDs.isEmpty ? "every root key in KEK_ROOT_KEYS is still in use"
                  : "no KEK uses root keys \(outcome.unusedRootIDs.joined(separator: ", ")) any more; remove them from KEK_ROOT_KEYS")
        }
    )
}
