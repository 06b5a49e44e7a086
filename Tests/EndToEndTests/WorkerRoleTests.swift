import Foundation
import PostgresClient
import TestSupport
import XCTest

/// `kek worker` as a login granted only kek_worker (the runbooks' setup): it keeps beating
/// at its interval and runs a schedule that is due. Before sql/044 such a worker logged
/// `permission denied for table job_schedule_runs` every 0.5 s and its heartbeat stopped.
final class WorkerRoleTests: XCTestCase {
    func testWorkerLoginKeepsItsHeartbeatAndRunsADueSchedule() throws {
        let url = try TestDatabase.migrated()
        let db = try PostgresConnection(url)
        let schedules = try TemporaryFolder("kek-schedules")
        defer { schedules.remove() }
        try Data(#"{"kind": "noop", "args": {"steps": 1}, "every": "1h"}"#.utf8).write(to: schedules.url.appendingPathComponent("smoke.json"))
        let kek = KekBinary(databaseURL: url)
        // --lease 3s gives a heartbeat every second (lease / 3); 1s schedule evaluation.
        let (worker, log) = try kek.startLogged(["worker", "--worker-id", "role-worker", "--lease", "3s", "--poll-interval", "1s",
                                                 "--schedule-dir", schedules.path, "--schedule-interval", "1s", "--retention", "1h"],
                                                name: "role-worker")
        defer {
            kek.send(SIGTERM, to: worker)
            XCTAssertTrue(kek.waitForExit(worker, timeout: 30))
        }
        // Observed for 15 s (15 heartbeat intervals; the broken worker stopped after the first
        // beat): every beat is seen, and no gap between two is longer than 3 intervals.
        var beats: [Date] = []
        var scheduledJobDone = false
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let beat: Date = try db.query("SELECT last_heartbeat_at FROM workers WHERE id = 'role-worker'").first?.decode(0),
               beats.last != beat {
                beats.append(beat)
            }
            let completed: Int = try db.query("""
                SELECT count(*) FROM job_schedule_runs r JOIN jobs j ON j.id = r.job_id
                WHERE r.schedule = 'smoke' AND j.state = 'completed'
                """)[0].decode(0)
            scheduledJobDone = scheduledJobDone || completed == 1
            Thread.sleep(forTimeInterval: 0.25)
        }
        let gaps = zip(beats.dropFirst(), beats).map { $0.timeIntervalSince($1) }
        print("heartbeats seen in 15 s: \(beats.count), longest gap \(String(format: "%.2f", gaps.max() ?? 0)) s")
        XCTAssertGreaterThanOrEqual(beats.count, 10, "a beat per second for 15 s")
        XCTAssertLessThan(gaps.max() ?? 99, 3.5)
        XCTAssertTrue(scheduledJobDone, "the due schedule was enqueued and run")
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertFalse(text.contains("permission denied"), text)
    }
}
