import Foundation

extension Row {
    /// A text column read as a string enumeration. Text the enumeration does not name is an
    /// error here, where it is read, so that no caller invents a default state for it.
    public func decodeCase<E: RawRepresentable>(_ index: Int, as type: E.Type = E.self) throws -> E where E.RawValue == String {
        let text: String = try decode(index)
        guard let value = E(rawValue: text) else {
            throw PostgresError(.decoding, message: "column \(index) holds '\(text)', which is not a known \(E.self)")
        }
        return value
    }

    /// A nullable text column read as a string enumeration; NULL is nil, unknown text an error.
    public func decodeCase<E: RawRepresentable>(_ index: Int, as type: E?.Type = E?.self) throws -> E? where E.RawValue == String {
        guard try decode(index, as: String?.self) != nil else { return nil }
        return try decodeCase(index, as: E.self)
    }
}
