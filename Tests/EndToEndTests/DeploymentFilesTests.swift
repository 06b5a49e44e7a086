import Foundation
import PostgresClient
import TestSupport
import XCTest

/// jobs/: the systemd units and Kubernetes manifests validate with the tools operators use,
/// are hardened as documented, and the schedule example means the same to a worker and to cron.
final class DeploymentFilesTests: XCTestCase {
    private let jobs = ExternalTool.repositoryRoot.appendingPathComponent("jobs")

    private func text(_ name: String) throws -> String {
        try String(contentsOf: jobs.appendingPathComponent(name), encoding: .utf8)
    }

    func testSystemdUnitsVerifyAndTheWorkerScoresOK() throws {
        let analyze = try XCTUnwrap(ExternalTool.find("systemd-analyze"), "systemd-analyze comes from the systemd package (.ci/setup)")
        // verify checks that ExecStart exists: point copies at the built binary.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kek-units-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let units = ["kek-worker.service", "kek-rotate.service", "kek-rotate.timer"]
        for unit in units {
            try text(unit).replacingOccurrences(of: "/usr/local/bin/kek", with: KekBinary.path)
                .write(to: folder.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        }
        let verify = try ExternalTool.run(analyze, ["verify"] + units, in: folder)
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertFalse(verify.output.contains("kek-"), "verify complained: \(verify.output)")
        for unit in ["kek-worker.service", "kek-rotate.service"] {
            let security = try ExternalTool.run(analyze, ["security", "--offline=true", unit], in: folder)
            let verdict = try XCTUnwrap(security.output.split(separator: "\n").last { $0.contains("Overall exposure level") },
                                        security.output)
            print(verdict)
            XCTAssertTrue(verdict.hasSuffix(" OK 🙂") || verdict.contains(" SAFE"), "\(unit): \(verdict)")
        }
        let worker = try text("kek-worker.service")
        for line in ["Type=notify", "WatchdogSec=", "LoadCredential=root-keys:", "Environment=KEK_ROOT_KEYS_FILE=%d/root-keys",
                     "Environment=KEK_SCHEDULE_DIR="] {
            XCTAssertTrue(worker.contains(line), "kek-worker.service lacks \(line)")
        }
        XCTAssertFalse(worker.contains("KEK_ROOT_KEYS="), "root keys go through a credential, never the environment")
    }

    func testKubernetesManifestsValidateOfflineAndAreHardened() throws {
        let python = try XCTUnwrap(ExternalTool.find("python3"))
        let validate = try ExternalTool.run(python, ["-m", "kubernetes_validate", "--strict",
                                                     "kubernetes-worker.yaml", "kubernetes-cronjob.yaml"], in: jobs)
        XCTAssertEqual(validate.status, 0, "kubernetes-validate is installed by .ci/setup: \(validate.output)")
        XCTAssertEqual(validate.output.components(separatedBy: " passed for resource ").count - 1, 3, validate.output)

        let worker = try text("kubernetes-worker.yaml")
        for needle in ["path: /readyz", "path: /healthz", "readOnlyRootFilesystem: true", "runAsNonRoot: true",
                       "allowPrivilegeEscalation: false", "drop: [\"ALL\"]", "defaultMode: 0400", "secretName: kek-root-keys",
                       "KEK_ROOT_KEYS_FILE", "resources:", "KEK_SCHEDULE_DIR"] {
            XCTAssertTrue(worker.contains(needle), "kubernetes-worker.yaml lacks \(needle)")
        }
        let grace = try XCTUnwrap(worker.firstMatch(of: /terminationGracePeriodSeconds: (\d+)/).flatMap { Int($0.1) })
        let shutdown = try XCTUnwrap(worker.firstMatch(of: /KEK_SHUTDOWN_TIMEOUT, value: (\d+)s/).flatMap { Int($0.1) })
        XCTAssertGreaterThan(grace, shutdown, "the kubelet must not SIGKILL a worker still handing its jobs back")
        let cron = try text("kubernetes-cronjob.yaml")
        for needle in ["timeZone:", "resources:", "readOnlyRootFilesystem: true", "runAsNonRoot: true", "seccompProfile"] {
            XCTAssertTrue(cron.contains(needle), "kubernetes-cronjob.yaml lacks \(needle)")
        }
    }

    func testTheRotationScheduleMeansTheSameToCronAndToTheWorker() throws {
        let url = try TestDatabase.migrated()
        let kek = KekBinary(databaseURL: url, extra: ["KEK_ROOT_KEYS": TestRootKey.line])
        XCTAssertEqual(try kek.run(["keys", "generate", "--activate"]).status, 0)
        let shipped = jobs.appendingPathComponent("schedules/rotate-kek.json")
        // A KEK activated a moment ago is not 90 days old: cron's enqueue adds nothing.
        let early = try kek.run(["jobs", "enqueue", "--file", shipped.path])
        XCTAssertEqual(early.status, 0, early.stderr)
        XCTAssertTrue(early.stdout.hasPrefix("not due: active_kek_older_than 90d"), early.stdout)
        let connection = try PostgresConnection(url)
        XCTAssertEqual(try connection.query("SELECT count(*)::int8 FROM jobs")[0].decode(0, as: Int.self), 0)

        // The same file with a 1-second cryptoperiod, loaded by a worker as its own schedule.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kek-schedules-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try String(contentsOf: shipped, encoding: .utf8).replacingOccurrences(of: "\"90d\"", with: "\"1s\"")
            .write(to: folder.appendingPathComponent("rotate-kek.json"), atomically: true, encoding: .utf8)
        var scheduled = kek
        scheduled.environment["KEK_SCHEDULE_DIR"] = folder.path
        let run = try scheduled.startLogged(["worker", "--schedule-interval", "500ms", "--poll-interval", "500ms"], name: "schedule")
        defer { if run.process.isRunning { scheduled.send(SIGKILL, to: run.process) } }
        let deadline = Date().addingTimeInterval(60)
        var rotations = 0
        while rotations == 0 && Date() < deadline {
            rotations = try connection.query("SELECT count(*)::int8 FROM jobs WHERE kind = 'rotate_kek' AND unique_key = 'rotate_kek'")[0]
                .decode(0)
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(rotations, 1, (try? String(contentsOf: run.log, encoding: .utf8)) ?? "")
        scheduled.send(SIGTERM, to: run.process)
        XCTAssertTrue(scheduled.waitForExit(run.process, timeout: 30))
    }
}
