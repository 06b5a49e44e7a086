import Foundation
import Synchronization

/// What the handlers serve: the latest report, already encoded, and the latest database check.
///
/// Built by one refresher thread about once a second, so a dozen dashboards polling every
/// second cost one set of queries per second, and a request costs a lock and a copy.
struct StatusSnapshot: Sendable {
    /// The encoded report and metrics of the last successful refresh.
    var json: [UInt8]?
    var metrics: [UInt8]?
    var reportedAt: Date?
    /// The last time the database answered, and the schema version it reported then.
    var databaseAnsweredAt: Date?
    var schemaVersion: Int?
    /// Why the last refresh failed (cleared by a success).
    var lastError: String?
}

/// The snapshot shared between the refresher (writer) and the handler threads (readers).
final class SnapshotStore: Sendable {
    private let state = Mutex(StatusSnapshot())

    var current: StatusSnapshot { state.withLock { $0 } }

    func update(_ change: (inout StatusSnapshot) -> Void) {
        state.withLock { change(&$0) }
    }
}
