import Foundation

/// The one JSON convention of kek, for everything a program or a person reads: job arguments,
/// checkpoints and results, `--json` output, the HTTP status documents and audit details.
///
/// Keys are the types' own coding keys, with no key strategy: a type that wants `kek_id` on the
/// wire says so in its `CodingKeys`, so what is written is what is read back, whatever the
/// property is called (a strategy made `dekId` and `dekID` different keys, and a decoder
/// without it silently dropped fields). Dates are RFC 3339 in UTC with `Z`; keys are sorted so
/// equal values give equal bytes.
///
/// It lives in JobQueue, the lowest layer that every JSON writer depends on.
public enum JSONCodec {
    /// Compact output: job rows, HTTP bodies, audit details.
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encodeBytes(value), as: UTF8.self)
    }

    /// Indented output for people (`--json` on the command line).
    public static func encodePretty<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder(pretty: true).encode(value), as: UTF8.self)
    }

    public static func encodeBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder(pretty: false).encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type = T.self, from text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }

    public static func decode<T: Decodable>(_ type: T.Type = T.self, from bytes: some Collection<UInt8>) throws -> T {
        try decoder.decode(type, from: Data(bytes))
    }

    private static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted]
                                          : [.sortedKeys]
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
