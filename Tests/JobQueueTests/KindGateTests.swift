import Foundation
import JobQueue
import PostgresClient
import Synchronization
import XCTest

/// Gated kinds: claimed only while their check passes; a hand-back counts no attempt.
final class KindGateTests: XCTestCase {
    /// A check whose answer the test sets.
    final class Switch: Sendable {
        let reason = Mutex<String?>("nothing to run it with")
        let calls = Mutex(0)
        var check: JobKindGate.Check {
            { _ in self.calls.withLock { $0 += 1 }; return self.reason.withLock { $0 } }
        }
    }

    func testClosedGateClaimsOtherKindsOnlyAndAnnouncesOnce() throws {
        let fixture = try QueueFixture()
        let gatedSwitch = Switch()
        var registry = JobHandlerRegistry.noop
        registry.register("gated") { _ in .completed(result: nil) }
        registry.gate(JobKindGate(name: "thing", kinds: ["gated"], backoff: 0.3, recheck: 0.3, check: gatedSwitch.check))
        let gated = try fixture.queue.enqueue(JobRequest(kind: "gated"))
        let plain = try fixture.queue.enqueue(JobRequest(kind: "noop"))
        let events = RecordedEvents()
        let runner = try fixture.runner(registry, events: events)

        XCTAssertEqual(try runner.runNext()?.jobID, plain.id)
        XCTAssertNil(try runner.runNext())
        XCTAssertNil(try runner.runNext())
        XCTAssertEqual(try fixture.job(gated.id).attempt, 0)
        XCTAssertNil(try fixture.job(gated.id).leaseOwner)
        XCTAssertEqual(events.all.filter { $0.event == "kinds_disabled" }.count, 1, "\(events.all)")
        XCTAssertEqual(gatedSwitch.calls.withLock { $0 }, 1, "the answer is cached for the back-off")
        XCTAssertEqual(registry.gateStatus.first?.ready, false)
        XCTAssertEqual(registry.gateStatus.first?.reason, "nothing to run it with")

        gatedSwitch.reason.withLock { $0 = nil }
        Thread.sleep(forTimeInterval: 0.35)
        XCTAssertEqual(try runner.runNext()?.jobID, gated.id)
        XCTAssertEqual(try fixture.job(gated.id).state, .completed)
        XCTAssertEqual(events.all.filter { $0.event == "kinds_enabled" }.count, 1)
        XCTAssertEqual(registry.gateStatus.first?.ready, true)
    }

    func testHandBackCountsNoAttemptAndClosesTheGate() throws {
        let fixture = try QueueFixture()
        let gatedSwitch = Switch()
        gatedSwitch.reason.withLock { $0 = nil }
        var registry = JobHandlerRegistry()
        registry.register("gated") { _ in throw JobNotRunnableHere("this worker lacks it") }
        registry.gate(JobKindGate(name: "thing", kinds: ["gated"], backoff: 60, check: gatedSwitch.check))
        let job = try fixture.queue.enqueue(JobRequest(kind: "gated", maxAttempts: 1))
        let events = RecordedEvents()
        let runner = try fixture.runner(registry, events: events)

        let result = try XCTUnwrap(try runner.runNext())
        XCTAssertEqual(result.state, .queued)
        let after = try fixture.job(job.id)
        XCTAssertEqual(after.state, .queued)
        XCTAssertEqual(after.attempt, 0, "a hand-back is not an attempt")
        XCTAssertNil(try runner.runNext(), "the gate stays closed for its back-off")
        XCTAssertEqual(registry.gateStatus.first?.reason, "this worker lacks it")
        XCTAssertEqual(events.names(for: job.id), ["claimed", "handed_back"])
    }
}
