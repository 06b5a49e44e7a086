import Foundation

// The JSON convention (README "JSON output"): UUIDs are written lower case, as PostgreSQL and
// the audit log write them. Foundation's `UUID` encodes itself upper case and `JSONEncoder`
// has no strategy for it, so these overloads, more specific than the generic `encode`, are
// what the synthesized `Encodable` conformances of this module call for their UUID properties.
// Decoding is unchanged (`UUID(uuidString:)` accepts either case), so rows and job arguments
// written before keep decoding.
extension KeyedEncodingContainer {
    mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.uuidString.lowercased(), forKey: key)
    }

    mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        try encodeIfPresent(value?.uuidString.lowercased(), forKey: key)
    }
}
