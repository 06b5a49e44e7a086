import Foundation
import JobQueue
import PostgresClient
import Synchronization
import TestSupport
import XCTest

/// Schedules and the threaded worker (NOTIFY wake-up, graceful stop, heartbeat).
final class JobQueueWorkerTests: XCTestCase {
    func testThreeSchedulersAtOnceEnqueueEachOccurrenceOnce() throws {
        let fixture = try QueueFixture()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("schedules-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try #"{"kind": "noop", "args": {"steps": 2}, "every": "1h"}"#.write(
            to: folder.appendingPathComponent("hourly.json"), atomically: true, encoding: .utf8)
        try #"{"kind": "rotate", "when": {"older_than": "90d"}, "check_every": "1h"}"#.write(
            to: folder.appendingPathComponent("rotate.json"), atomically: true, encoding: .utf8)
        let schedules = try JobSchedule.load(directory: folder.path)
        XCTAssertEqual(schedules.map(\.name), ["hourly", "rotate"])
        XCTAssertEqual(schedules[1].trigger, .when(condition: "older_than", argument: "90d", checkEvery: 3600))

        let asked = Mutex<[String]>([])
        let scheduler = JobScheduler(conditions: ["older_than": { _, schedule, argument in
            asked.withLock { $0.append("\(schedule.kind) \(argument)") }
            return true
        }])
        let url = fixture.url
        let enqueued = Mutex<[Int64]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            let connection = try! PostgresConnection(url)
            for schedule in schedules {
                if let job = try! scheduler.evaluate(schedule, on: connection) { enqueued.withLock { $0.append(job.id) } }
            }
        }
        XCTAssertEqual(enqueued.withLock { $0 }.count, 2, "one job per schedule, not one per scheduler")
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs"), 2)
        XCTAssertEqual(asked.withLock { $0 }, Array(repeating: "rotate 90d", count: 3))
        // Evaluated again in the same interval: nothing new.
        for schedule in schedules { XCTAssertNil(try scheduler.evaluate(schedule, on: fixture.db)) }
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM jobs WHERE unique_key = 'schedule:hourly'"), 1)

        XCTAssertThrowsError(try JobScheduler().evaluate(schedules[1], on: fixture.db)) {
            XCTAssertTrue("\($0)".contains("no condition named 'older_than'"), "\($0)")
        }
        try "{\"kind\": \"noop\", \"every\": \"soon\"}".write(to: folder.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobSchedule.load(file: folder.appendingPathComponent("bad.json").path)) {
            XCTAssertTrue("\($0)".contains("bad.json: \"every\" must be a duration"), "\($0)")
        }
    }

    func testTheRepositorysExampleScheduleFilesParse() throws {
        let folder = URL(fileURLWithPath: TestDatabase.sqlDirectory).deletingLastPathComponent().appendingPathComponent("jobs").path
        // jobs/schedules/ holds what a worker should load (KEK_SCHEDULE_DIR); jobs/ the smoke example.
        let schedules = try JobSchedule.load(directory: folder) + JobSchedule.load(directory: folder + "/schedules")
        XCTAssertEqual(schedules.map(\.kind).sorted(), ["noop", "rotate_kek"])
        XCTAssertTrue(schedules.contains {
            $0.trigger == .when(condition: "active_kek_older_than", argument: "90d", checkEvery: 3600) && $0.uniqueKey == "rotate_kek"
        })
        XCTAssertTrue(schedules.contains { $0.trigger == .every(3600) && $0.uniqueKey == "schedule:noop-smoke" })
    }

    func testWorkerWakesOnNotifyAndStopsReleasingItsJobWithoutBurningAnAttempt() throws {
        let fixture = try QueueFixture()
        var configuration = WorkerConfiguration(databaseURL: fixture.url, workerID: "threads")
        configuration.concurrency = 2
        configuration.pollInterval = 60 // only a notification can wake the loops in time
        let events = RecordedEvents()
        let worker = JobWorker(configuration: configuration, handlers: .noop, events: events)
        worker.start()
        XCTAssertTrue(try waitUntil(timeout: 5) {
            try fixture.count("SELECT count(*) FROM workers WHERE id = 'threads'") == 1
        })
        // Both loops listen before the enqueue: a notification sent from then on is not missed.
        XCTAssertTrue(worker.waitUntilConnected(timeout: 5))
        let quick = try fixture.queue.enqueue(JobRequest(kind: "noop"))
        XCTAssertTrue(try waitUntil(timeout: 3) { try fixture.job(quick.id).state == .completed })

        // A long job: stopping the worker ends it at a checkpoint, back in the queue.
        let long = try fixture.queue.enqueue(JobRequest(kind: "noop", argumentsJSON: #"{"steps": 100, "sleep_ms": 50}"#))
        XCTAssertTrue(try waitUntil(timeout: 5) { try fixture.job(long.id).progressDone >= 3 })
        worker.requestStop()
        XCTAssertTrue(worker.waitUntilStopped(timeout: 5))
        let job = try fixture.job(long.id)
        XCTAssertEqual(job.state, .queued)
        XCTAssertEqual(job.attempt, 0)
        XCTAssertLessThan(job.progressDone, 100)
        XCTAssertEqual(job.checkpointJSON, "{\"step\": \(job.progressDone)}")
        XCTAssertEqual(events.names(for: long.id), ["claimed", "released"])
        let started = events.all.first { $0.event == "worker_started" }?.message ?? ""
        XCTAssertTrue(started.hasSuffix(" schedules=none"), started)
        XCTAssertEqual(try fixture.count("SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL"), 1)
    }
}
