import Foundation
import JobQueue
import KeyManagement

/// How commands print results: JSON for machines, and secret bytes without copies.
enum Output {
    /// Every `--json` document of kek, on stdout: `JSONCodec.encodePretty`, so the keys are the
    /// printed type's own coding keys (snake_case, README "JSON output"), dates RFC 3339 with `Z`.
    static func json<T: Encodable>(_ value: T) throws {
        print(try JSONCodec.encodePretty(value))
    }

    /// The `kek jobs` documents, one line each (`JSONCodec.encode`), as those commands have
    /// always printed them: scripts and tests read them line by line and byte for byte.
    static func jsonLine<T: Encodable>(_ value: T) throws {
        print(try JSONCodec.encode(value))
    }

    /// Writes the secret's bytes to stdout exactly (no newline added), with `write(2)` straight
    /// from its buffer so no unwipeable `Data` copy is made.
    static func writeSecret(_ secret: SecretBytes) throws {
        try secret.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CommandFailure("cannot write to stdout: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    /// Standard padded base64 of the secret, itself held as a secret (wiped on release).
    static func base64(_ secret: SecretBytes) -> SecretBytes {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((secret.count + 2) / 3 * 4 + 1)
        secret.withUnsafeBytes { bytes in
            var index = 0
            while index < bytes.count {
                let chunk = min(3, bytes.count - index)
                var triple: UInt32 = 0
                for offset in 0..<3 { triple = triple << 8 | UInt32(offset < chunk ? bytes[index + offset] : 0) }
                for position in 0..<4 {
                    out.append(position <= chunk ? alphabet[Int(triple >> UInt32(18 - 6 * position) & 0x3f)] : UInt8(ascii: "="))
                }
                triple = 0
                index += 3
            }
        }
        return SecretBytes(out)
    }
}
