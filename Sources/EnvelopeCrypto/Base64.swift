/// Strict standard base64 (RFC 4648 §4, '=' padding required) decoding into caller memory.
///
/// Why not Foundation: `Data(base64Encoded:)` returns the key in a `Data` this code cannot wipe
/// reliably; decoding here writes the bytes straight into a key's own buffer.
enum Base64 {
    /// The decoded size, or nil if `text` is not strict padded base64.
    static func decodedLength(_ text: UnsafeRawBufferPointer) -> Int? {
        guard text.count % 4 == 0 else { return nil }
        guard !text.isEmpty else { return 0 }
        var padding = 0
        if text[text.count - 1] == UInt8(ascii: "=") { padding += 1 }
        if text[text.count - 2] == UInt8(ascii: "=") { padding += 1 }
        for (index, byte) in text.enumerated() where index < text.count - padding {
            if sextet(byte) == nil { return nil }
        }
        // Unused low bits before the padding must be zero, so each key has one text form.
        let last = sextet(text[text.count - padding - 1])!
        if padding == 1 && last & 0b11 != 0 { return nil }
        if padding == 2 && last & 0b1111 != 0 { return nil }
        return text.count / 4 * 3 - padding
    }

    /// Decodes `text`, already checked by `decodedLength`, into `output` of exactly that size.
    static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        var accumulator: UInt32 = 0
        var bits = 0
        var written = 0
        for byte in text {
            guard let value = sextet(byte) else { break }  // '=' padding ends the data
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output[written] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                written += 1
            }
        }
        accumulator = 0
        precondition(written == output.count, "Base64.decode: output size does not match decodedLength")
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
