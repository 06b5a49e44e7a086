/// One row of a result, copied out of libpq's result so that no C memory outlives the call.
public struct Row: Sendable {
    let result: ResultValues
    let index: Int

    /// Reads column `index` (0-based) as `T`; NULL is only accepted by an optional `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        let columns = result.columns
        guard columns.typeOIDs.indices.contains(column) else {
            throw PostgresError(.usage, message: "row has \(count) columns, no column \(column)")
        }
        guard let bytes = result.value(row: index, column: column) else { return try T.decodeNull() }
        do {
            return try T.decode(postgresBinary: bytes, typeOID: columns.typeOIDs[column])
        } catch var error as PostgresError {
            error.message = "column \"\(columns.names[column])\": " + error.message
            throw error
        }
    }

    /// Reads the column named `name`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let column = result.columns.index(of: name) else {
            throw PostgresError(.usage, message: "no column named \"\(name)\" (have: \(result.columns.names.joined(separator: ", ")))")
        }
        return try decode(column, as: type)
    }

    public var count: Int { result.columns.typeOIDs.count }
}

/// Every value of one result, copied out of libpq's `PGresult` in one pass: the bytes of all
/// values in one buffer, and where each row's columns lie in it. A row is this and an index,
/// so reading 2,000 rows costs three allocations instead of three per row (the rotation reads
/// and decodes every batch; the per-row buffers were 4,200 instructions of its 22,000 a row,
/// callgrind).
final class ResultValues: Sendable {
    let columns: Columns
    let rowCount: Int
    private let bytes: [UInt8]
    /// Where value (row, column) starts in `bytes`, at `row * columnCount + column`.
    private let starts: [Int]
    /// Its length, or -1 for NULL.
    private let lengths: [Int32]

    init(columns: Columns, rowCount: Int, bytes: [UInt8], starts: [Int], lengths: [Int32]) {
        self.columns = columns
        self.rowCount = rowCount
        self.bytes = bytes
        self.starts = starts
        self.lengths = lengths
    }

    /// The bytes of one value, sharing the result's buffer; nil for NULL.
    func value(row: Int, column: Int) -> ArraySlice<UInt8>? {
        let cell = row * columns.typeOIDs.count + column
        let length = Int(lengths[cell])
        guard length >= 0 else { return nil }
        let start = starts[cell]
        return bytes[start..<(start + length)]
    }

    var rows: [Row] { (0..<rowCount).map { Row(result: self, index: $0) } }
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
