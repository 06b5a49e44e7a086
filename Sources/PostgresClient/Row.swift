/// One row of a result, copied out of libpq's result so that no C memory outlives the call.
public struct Row: Sendable {
    let columns: Columns
    let values: [ArraySlice<UInt8>?]

    /// Reads column `index` (0-based) as `T`; NULL is only accepted by an optional `T`.
    public func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(.usage, message: "row has \(values.count) columns, no column \(index)")
        }
        guard let bytes = values[index] else { return try T.decodeNull() }
        do {
            return try T.decode(postgresBinary: bytes, typeOID: columns.typeOIDs[index])
        } catch var error as PostgresError {
            error.message = "column \"\(columns.names[index])\": " + error.message
            throw error
        }
    }

    /// Reads the column named `name`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.index(of: name) else {
            throw PostgresError(.usage, message: "no column named \"\(name)\" (have: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(index, as: type)
    }

    public var count: Int { values.count }
}

/// Column names and types, shared by every row of one result.
final class Columns: Sendable {
    let names: [String]
    let typeOIDs: [UInt32]

    init(names: [String], typeOIDs: [UInt32]) {
        self.names = names
        self.typeOIDs = typeOIDs
    }

    func index(of name: String) -> Int? { names.firstIndex(of: name) }
}
