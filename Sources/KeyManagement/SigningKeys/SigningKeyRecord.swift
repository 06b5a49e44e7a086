import Foundation
import PostgresClient

/// Whether a webhook signing key may be used to sign and verify.
public enum SigningKeyStatus: String, Codable, Sendable {
    case active, revoked
}

/// One webhook signing key as `kek signing-keys list` shows it; never the key itself.
public struct SigningKeyRecord: Codable, Sendable, Equatable {
    public var id: UUID
    public var projectID: UUID
    public var status: SigningKeyStatus
    public var createdAt: Date
    public var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, status
        case projectID = "project_id"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    static let columns = "id, project_id, status, created_at, revoked_at"

    init(row: Row) throws {
        id = try row.decode(0)
        projectID = try row.decode(1)
        status = try row.decodeCase(2)
        createdAt = try row.decode(3)
        revokedAt = try row.decode(4)
    }
}
