import Foundation
import PostgresClient

/// One secret as `kek secrets list` shows it: name, version, dates, whether a value is
/// stored. Never the value, which is why this type can be Codable.
public struct SecretRecord: Codable, Sendable, Equatable {
    public var id: UUID
    public var projectID: UUID
    public var name: String
    /// Values this secret has had: 0 for a declared stub, 1 after the first value, +1 per update.
    public var version: Int
    /// False for a stub declared by an import manifest and not yet given a value.
    public var hasValue: Bool
    public var description: String?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, version, description
        case projectID = "project_id"
        case hasValue = "has_value"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// The columns `init(row:)` reads, in order.
    static let columns = "id, project_id, name, version, dek_id IS NOT NULL, description, created_at, updated_at"

    init(row: Row) throws {
        id = try row.decode(0)
        projectID = try row.decode(1)
        name = try row.decode(2)
        version = try row.decode(3)
        hasValue = try row.decode(4)
        description = try row.decode(5)
        createdAt = try row.decode(6)
        updatedAt = try row.decode(7)
    }
}
