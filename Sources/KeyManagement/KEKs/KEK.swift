import Foundation
import PostgresClient

/// The lifecycle states of DESIGN.md (after NIST SP 800-57).
public enum KEKState: String, Sendable, CaseIterable, Codable {
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
    /// When `dekCount` was true: the reading transaction's start (its snapshot).
    public var dekCountAsOf: Date
    /// How `dekCount` was obtained (`maintained`: the database's trigger-kept counts).
    public var dekCountSource: DEKCountSource
}

/// Settings that bound how KEKs are used, kept in the database so every process (workers,
/// the CLI, the status server, applications' triggers) enforces and shows the same values.
public enum KEKPolicy {
    /// The largest limit the database accepts: GCM's random-nonce bound (NIST SP 800-38D 8.3).
    public static let maximumWrapLimit: Int64 = 1 << 32

    /// Wraps allowed under one KEK before it must be rotated (`kek_settings.wrap_limit`,
    /// 2^30 unless changed); the database refuses a wrap past it.
    public static func wrapLimit(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT wrap_limit FROM kek_settings")[0].decode(0)
    }

    /// Sets the limit for every process; the database refuses values outside 1...2^32.
    public static func setWrapLimit(_ connection: PostgresConnection, _ limit: Int64) throws {
        try connection.execute("UPDATE kek_settings SET wrap_limit = $1", [limit])
    }

    /// Wraps made under KEK `id` so far, as the database counts them (`kek_wraps`).
    public static func wraps(_ connection: PostgresConnection, kek id: Int32) throws -> Int64 {
        try connection.query("SELECT kek_wraps($1)", [id])[0].decode(0)
    }
}
