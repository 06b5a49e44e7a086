import Foundation
import JobQueue
import KeyManagement
import PostgresClient

extension Command {
    static let rotate = Command.typed(
        "rotate",
        abstract: "Rotate the KEK: activate a new one and rewrap every DEK under it, on the running workers.",
        discussion: """
            Enqueues a rotate_kek job (one at a time: a second 'kek rotate' reports the running one).
            Workers ('kek worker') split it into parts and rewrap in batches; the old KEK is retired
            once no DEK is left under it. Pause or resume it with 'kek jobs pause|resume ID'.
            While a decrypt_only KEK still wraps DEKs (after 'kek keys activate N', or a rotation
            that failed), it generates no KEK and moves those DEKs to the active one (as
            --rewrap-only does). It is refused up front when the target KEK's wrap budget
            (kek_settings.wrap_limit, 'kek keys wrap-limit') cannot hold every DEK to move.
            """,
        options: RotateOptions.self,
        run: { options in
            let rotationArguments = RotationArguments(
                batchSize: options.batchSize, parts: options.parts, maxRate: options.maxRate, rewrapOnly: options.rewrapOnly ? true : nil)
            try checkBounds("kek rotate") { try rotationArguments.validate() }
            if options.plan {
                // The same decision and budget check the rotation job makes; writes nothing, needs no keyring.
                let plan = try RotationPlan.make(try Database.connect(), rewrapOnly: rotationArguments.rewrapOnly,
                                                 listingProjects: true)
                try printPlan(plan, json: options.following.json)
                try plan.checkBudget()
                return
            }
            let session = try KeySession.open()
            let job = try KeyJobRequests.rotate(session.connection, rootKeys: session.rootKeys, actor: session.actor, rotationArguments)
            try enqueued(JobRequested(job, kind: KeyJobKinds.rotation, label: "rotation"), session.connection, options.following,
                         path: "kek rotate")
        }
    )

    static func printPlan(_ plan: RotationPlan, json: Bool) throws {
        if json { return try Output.json(plan) }
        if plan.generatesKek {
            print("A rotation would generate and activate a new KEK and rewrap \(Formatting.count(plan.deksToRewrap)) DEKs:")
        } else {
            print("A rotation would generate no KEK and move \(Formatting.count(plan.deksToRewrap)) DEKs of decrypt_only KEKs "
                  + "to the active KEK \(plan.targetKek.map(String.init) ?? "?"):")
        }
        print(TextTable.render(["KEK", "STATE", "DEKS", "WRAPS", "HEADROOM"], plan.keks.map {
            [String($0.id), $0.state.rawValue, Formatting.count($0.deks), Formatting.count($0.wrapCount), Formatting.count($0.wrapHeadroom)]
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
        print("wrap limit per KEK: \(Formatting.count(plan.wrapLimit)) (NIST SP 800-38D 8.3); the target KEK has "
              + "\(Formatting.count(plan.targetHeadroom)) wraps left" + (plan.fits ? "" : ": too few, the rotation would be refused"))
    }

    /// Reports a requested job; with `--wait`, follows it to its end (or `--timeout`) first.
    static func enqueued(_ requested: JobRequested, _ connection: PostgresConnection, _ following: JobFollowing, path: String) throws {
        var result = requested
        guard following.wait else {
            if following.timeout != nil { throw UsageError("\(path): --timeout goes with --wait") }
            return try report(json: following.json, result)
        }
        if !following.json { print(result.text) }
        try JobWaiter.wait(connection, jobID: result.jobId, label: result.label, timeout: following.timeout)
        result.state = "completed"
        if following.json { try report(json: true, result) }
    }

    static let rotateRoot = Command.typed(
        "rotate-root",
        abstract: "Re-wrap every KEK under the active (first) root key of KEK_ROOT_KEYS.",
        discussion: "Afterwards the root keys it lists as unused can be removed from KEK_ROOT_KEYS (runbooks/root-key-rotation.md).",
        options: ResultJSONOptions.self,
        run: { options in
            let session = try KeySession.open()
            let outcome = try RootRotation.run(session.connection, rootKeys: session.rootKeys, actor: Actor.current)
            try report(json: options.json, RootRotationResult(
                rewrappedKekIds: outcome.rewrapped, activeRootKeyId: outcome.activeRootID, unusedRootKeyIds: outcome.unusedRootIDs,
                skippedRetiredKekIds: outcome.skippedRetired))
        }
    )
}

/// `kek rotate`'s options.
struct RotateOptions: CommandOptions {
    var plan = false
    var rewrapOnly = false
    var batchSize = RotationArguments.defaultBatchSize
    var parts: Int?
    var maxRate: Double?
    var following = JobFollowing()

    static let fields: [OptionField<Self>] = [
        .flag("wait", "Show progress until the rotation ends.", \.following.wait),
        .value("timeout", "DURATION", "With --wait: give up waiting after this long (exit 1; the job goes on).", \.following.timeout, .duration),
        .flag("plan", "Write nothing; report what a rotation would touch (exit 1 when it would be refused).", \.plan),
        .flag("rewrap-only", "Generate no KEK: move the DEKs of every decrypt_only KEK to the active one.", \.rewrapOnly),
        .value("batch-size", "N", "DEKs per batch transaction.", \.batchSize, .int),
        .value("parts", "N", "Parts each old KEK's DEKs are split into for parallel workers (default: one per "
               + "\(Formatting.count(Int(RotationPreparation.minimumDefaultPartDEKs))) DEKs, 1 to \(RotationPreparation.maximumDefaultParts)).",
               \.parts, .int),
        .value("max-rate", "ROWS_PER_S", "Cap on rows per second for the whole rotation, final sweep included "
               + "(\(Int(JobArgumentBounds.maxRate.lowerBound)) to \(Int(JobArgumentBounds.maxRate.upperBound))).", \.maxRate, .rate),
        .flag("json", "Print JSON: the plan, or job_id, enqueued and (with --wait) state.", \.following.json),
    ]
}

/// `kek rotate-root`: which KEKs moved, and which root key ids nothing needs any more.
struct RootRotationResult: CommandResult {
    var rewrappedKekIds: [Int32]
    var activeRootKeyId: String
    var unusedRootKeyIds: [String]
    var skippedRetiredKekIds: [Int32] = []

    var text: String {
        "\(rewrappedKekIds.count) KEKs re-wrapped under root key '\(activeRootKeyId)'\n"
            + (unusedRootKeyIds.isEmpty ? "every root key in KEK_ROOT_KEYS is still in use"
               : "no KEK uses root keys \(unusedRootKeyIds.joined(separator: ", ")) any more; remove them from KEK_ROOT_KEYS")
            + (skippedRetiredKekIds.isEmpty ? ""
               : "\nretired KEKs \(skippedRetiredKekIds.map(String.init).joined(separator: ", ")) left as they are: their root key "
                 + "is not in KEK_ROOT_KEYS and no DEK is under them (destroy them: runbooks/destroy-old-kek.md)")
    }

    private enum CodingKeys: String, CodingKey {
        case rewrappedKekIds = "rewrapped_kek_ids", activeRootKeyId = "active_root_key_id"
        case unusedRootKeyIds = "unused_root_key_ids", skippedRetiredKekIds = "skipped_retired_kek_ids"
    }
}
