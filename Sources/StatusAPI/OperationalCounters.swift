import Foundation
import JobQueue
import KeyManagement
import PostgresClient

/// What `/metrics` reports beyond the status document: monotonic job totals and the last
/// audit-chain verification. Read right after the report, in its own read-only transaction.
public struct OperationalCounters: Sendable {
    public var jobs: [JobCounter]
    /// When `kek audit verify` last found the chain intact (its `audit.verified` row).
    public var auditVerifiedAt: Date?

    public init(jobs: [JobCounter] = [], auditVerifiedAt: Date? = nil) {
        self.jobs = jobs
        self.auditVerifiedAt = auditVerifiedAt
    }
}

extension StatusReporter {
    public func counters() throws -> OperationalCounters {
        try connection.transaction(.readOnlySnapshot, settings: limits) {
            let verified: Date? = try connection.query(
                "SELECT max(at) FROM audit_log WHERE action = $1", [AuditAction.auditVerified.rawValue])[0].decode(0)
            return OperationalCounters(jobs: try JobCounter.read(connection), auditVerifiedAt: verified)
        }
    }
}
