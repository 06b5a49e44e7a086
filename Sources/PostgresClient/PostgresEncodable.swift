import Foundation

/// A Swift value that can be sent as a query parameter.
///
/// Every parameter travels in PostgreSQL's binary format with an explicit type, so
/// bytea is never escaped or hex-encoded and a value can never be read as SQL.
/// When a statement needs another type than the one sent, cast it in SQL (`$1::text::interval`).
public protocol PostgresEncodable {
    /// The OID of the type the bytes are in.
    static var postgresTypeOID: UInt32 { get }
    /// The binary wire form of the value; nil sends SQL NULL.
    func postgresBinary() -> [UInt8]?
}

/// A type that can stand inside a one-dimensional array parameter, for sending many rows
/// in one statement (`... FROM unnest($1::int8[], $2::bytea[])`).
public protocol PostgresArrayElement: PostgresEncodable {
    static var postgresArrayTypeOID: UInt32 { get }
    /// Appends this element as an array parameter holds it: its length (-1 for NULL), then its
    /// bytes. The default goes through `postgresBinary()`; `Int64` and `[UInt8]`, the rotation's
    /// per-row elements (three arrays of 2,000 a batch), append without an allocation.
    func appendPostgresArrayElement(to out: inout [UInt8])
}

extension PostgresArrayElement {
    public func appendPostgresArrayElement(to out: inout [UInt8]) {
        guard let bytes = postgresBinary() else { return appendBigEndian(Int32(-1), to: &out) }
        appendBigEndian(Int32(bytes.count), to: &out)
        out += bytes
    }
}

/// A JSON document sent as `jsonb` (its text form is kept as is).
public struct PostgresJSON: PostgresEncodable, Sendable, Equatable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public static var postgresTypeOID: UInt32 { 3802 }
    public func postgresBinary() -> [UInt8]? { [1] + Array(text.utf8) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { Wrapped.postgresTypeOID }
    public func postgresBinary() -> [UInt8]? { self?.postgresBinary() }
}

extension Int64: PostgresArrayElement {
    public static var postgresTypeOID: UInt32 { 20 }
    public static var postgresArrayTypeOID: UInt32 { 1016 }
    public func postgresBinary() -> [UInt8]? { bigEndianBytes(self) }
    public func appendPostgresArrayElement(to out: inout [UInt8]) {
        appendBigEndian(Int32(MemoryLayout<Int64>.size), to: &out)
        appendBigEndian(self, to: &out)
    }
}

extension Int: PostgresArrayElement {
    public static var postgresTypeOID: UInt32 { 20 }
    public static var postgresArrayTypeOID: UInt32 { 1016 }
    public func postgresBinary() -> [UInt8]? { bigEndianBytes(Int64(self)) }
}

extension Int32: PostgresArrayElement {
    public static var postgresTypeOID: UInt32 { 23 }
    public static var postgresArrayTypeOID: UInt32 { 1007 }
    public func postgresBinary() -> [UInt8]? { bigEndianBytes(self) }
}

extension Double: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { 701 }
    public func postgresBinary() -> [UInt8]? { bigEndianBytes(bitPattern) }
}

extension Bool: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { 16 }
    public func postgresBinary() -> [UInt8]? { [self ? 1 : 0] }
}

extension String: PostgresArrayElement {
    public static var postgresTypeOID: UInt32 { 25 }
    public static var postgresArrayTypeOID: UInt32 { 1009 }
    public func postgresBinary() -> [UInt8]? { Array(utf8) }
}

extension UUID: PostgresArrayElement {
    public static var postgresTypeOID: UInt32 { 2950 }
    public static var postgresArrayTypeOID: UInt32 { 2951 }
    public func postgresBinary() -> [UInt8]? { withUnsafeBytes(of: uuid) { Array($0) } }
}

extension Date: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { 1184 }
    public func postgresBinary() -> [UInt8]? { bigEndianBytes(PostgresEpoch.microseconds(from: self)) }
}

/// `[UInt8]` is bytea, sent as is.
extension Array: PostgresEncodable where Element == UInt8 {
    public static var postgresTypeOID: UInt32 { 17 }
    public func postgresBinary() -> [UInt8]? { self }
}

extension Array: PostgresArrayElement where Element == UInt8 {
    public static var postgresArrayTypeOID: UInt32 { 1001 }
    public func appendPostgresArrayElement(to out: inout [UInt8]) {
        appendBigEndian(Int32(count), to: &out)
        out += self
    }
}

/// A one-dimensional PostgreSQL array parameter (`int8[]`, `bytea[]`, `text[]`, `uuid[]`),
/// the way to send a whole batch of rows in one round trip.
public struct PostgresArray<Element: PostgresArrayElement>: PostgresEncodable {
    public var elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }
    public static var postgresTypeOID: UInt32 { Element.postgresArrayTypeOID }
    public func postgresBinary() -> [UInt8]? {
        PostgresArrayEncoding.encode(elements, elementOID: Element.postgresTypeOID)
    }
}

/// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00:00 UTC.
enum PostgresEpoch {
    static let offsetFromReferenceDate: Double = -31_622_400 // 2000-01-01 is 366 days before 2001-01-01

    static func microseconds(from date: Date) -> Int64 {
        Int64(((date.timeIntervalSinceReferenceDate - offsetFromReferenceDate) * 1_000_000).rounded())
    }

    static func date(fromMicroseconds micros: Int64) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(micros) / 1_000_000 + offsetFromReferenceDate)
    }
}

/// The binary array wire format: header, one dimension, then each element's length and bytes.
enum PostgresArrayEncoding {
    static func encode<Element: PostgresArrayElement>(_ elements: [Element], elementOID: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + elements.count * 12)
        appendBigEndian(Int32(1), to: &out)                  // dimensions
        appendBigEndian(Int32(0), to: &out)                  // flags; NULLs are allowed without it
        appendBigEndian(elementOID, to: &out)
        appendBigEndian(Int32(elements.count), to: &out)     // length of the dimension
        appendBigEndian(Int32(1), to: &out)                  // lower bound
        for element in elements { element.appendPostgresArrayElement(to: &out) }
        return out
    }
}

/// Appends `value` in network byte order, without the temporary array `bigEndianBytes` makes.
@inline(__always)
func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
}

func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}
