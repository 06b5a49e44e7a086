import Foundation

/// A Swift type that a result column can be read as.
///
/// Results always come in PostgreSQL's binary format: bytea arrives as raw bytes and
/// numbers need no parsing. Types without a decoder here (numeric, interval) should be cast
/// in SQL to one that has one (`::float8`, `::text`).
public protocol PostgresDecodable {
    /// Decodes a non-NULL value of the column type `typeOID`.
    static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Self
    /// What a NULL decodes as; only `Optional` has an answer.
    static func decodeNull() throws -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws -> Self {
        throw PostgresError(.decoding, message: "column is NULL but \(Self.self) is not optional")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Self {
        try Wrapped.decode(postgresBinary: bytes, typeOID: typeOID)
    }
    public static func decodeNull() throws -> Self { nil }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Int64 {
        switch (typeOID, bytes.count) {
        case (20, 8): return readBigEndian(bytes, as: Int64.self)
        case (23, 4): return Int64(readBigEndian(bytes, as: Int32.self))
        case (21, 2): return Int64(readBigEndian(bytes, as: Int16.self))
        default: throw decodingMismatch(Int64.self, typeOID)
        }
    }
}

extension Int: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Int {
        Int(try Int64.decode(postgresBinary: bytes, typeOID: typeOID))
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Int32 {
        let wide = try Int64.decode(postgresBinary: bytes, typeOID: typeOID)
        guard let narrow = Int32(exactly: wide) else {
            throw PostgresError(.decoding, message: "value \(wide) does not fit in Int32")
        }
        return narrow
    }
}

extension Double: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Double {
        switch (typeOID, bytes.count) {
        case (701, 8): return Double(bitPattern: readBigEndian(bytes, as: UInt64.self))
        case (700, 4): return Double(Float(bitPattern: readBigEndian(bytes, as: UInt32.self)))
        case (20, _), (23, _), (21, _): return Double(try Int64.decode(postgresBinary: bytes, typeOID: typeOID))
        default: throw decodingMismatch(Double.self, typeOID)
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Bool {
        guard typeOID == 16, bytes.count == 1 else { throw decodingMismatch(Bool.self, typeOID) }
        return bytes.first != 0
    }
}

extension String: PostgresDecodable {
    /// text, varchar, char, name, json and unknown are UTF-8 text; jsonb adds a version byte.
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> String {
        let textBytes: ArraySlice<UInt8>
        switch typeOID {
        case 25, 1043, 1042, 19, 114, 705: textBytes = bytes
        case 3802 where bytes.first == 1: textBytes = bytes.dropFirst()
        default: throw decodingMismatch(String.self, typeOID)
        }
        guard let text = String(validating: textBytes, as: UTF8.self) else {
            throw PostgresError(.decoding, message: "column is not valid UTF-8")
        }
        return text
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> [UInt8] {
        guard typeOID == 17 else { throw decodingMismatch([UInt8].self, typeOID) }
        return Array(bytes)
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> UUID {
        guard typeOID == 2950, bytes.count == 16 else { throw decodingMismatch(UUID.self, typeOID) }
        let b = Array(bytes)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                           b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}

extension Date: PostgresDecodable {
    public static func decode(postgresBinary bytes: ArraySlice<UInt8>, typeOID: UInt32) throws -> Date {
        guard typeOID == 1184 || typeOID == 1114, bytes.count == 8 else { throw decodingMismatch(Date.self, typeOID) }
        return PostgresEpoch.date(fromMicroseconds: readBigEndian(bytes, as: Int64.self))
    }
}

func readBigEndian<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, as type: T.Type) -> T {
    var value: T = 0
    for byte in bytes { value = (value << 8) | T(byte) }
    return value
}

func decodingMismatch(_ type: Any.Type, _ oid: UInt32) -> PostgresError {
    PostgresError(.decoding, message: "cannot decode a column of type OID \(oid) as \(type); cast it in SQL")
}
