import Foundation

/// The lifecycle states of DESIGN.md (after NIST SP 800-57).
public enum KEKState: String, Sendable, CaseIterable {
    case pending, active, retired, destroyed, compromised
    case decryptOnly = "decrypt_only"
}

/// One KEK as the inventory shows it: dates, counts, never key material.
public struct KEKRecord: Sendable {
    public var id: Int32
    public var state: KEKState
    public var rootKeyID: String
    public var createdAt: Date
    public var activatedAt: Date?
    public var retiredAt: Date?
    public var destroyAfter: Date?
    public var destroyedAt: Date?
    public var wrapCount: Int64
    public var dekCount: Int64
}

/// Settings that bound how KEKs are used.
public enum KEKPolicy {
    /// Wraps allowed under one KEK before it must be rotated: far below GCM's 2^32
    /// random-nonce limit (NIST SP 800-38D 8.3). `KEK_WRAP_LIMIT` lowers it (tests do).
    public static var wrapLimit: Int64 {
        ProcessInfo.processInfo.environment["KEK_WRAP_LIMIT"].flatMap { Int64($0) } ?? (1 << 30)
    }
}
