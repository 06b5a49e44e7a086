import Foundation

/// The associated data that binds each wrapped key or value to its row (DESIGN.md, envelope
/// format v1). A ciphertext copied onto another row then fails to open instead of decrypting
/// into the wrong place.
///
/// These strings are part of the stored format: changing one makes existing rows unreadable.
/// Ids are in canonical text form: integers in decimal, UUIDs lower-case with hyphens.
public enum AAD {
    /// A KEK under a root key: `kek/v1|kek=<kek id>|root=<root key id>`.
    public static func kek(id: Int32, rootKeyID: String) -> [UInt8] {
        var out = prefixed("kek/v1|kek=", capacity: 40 + rootKeyID.utf8.count)
        appendDecimal(Int64(id), to: &out)
        out.append(contentsOf: "|root=".utf8)
        out.append(contentsOf: rootKeyID.utf8)
        return out
    }

    /// A DEK under a KEK: `dek/v1|dek=<dek id>|kek=<kek id>`.
    public static func dek(id: Int64, kekID: Int32) -> [UInt8] {
        var out = prefixed("dek/v1|dek=", capacity: 48)
        appendDecimal(id, to: &out)
        out.append(contentsOf: "|kek=".utf8)
        appendDecimal(Int64(kekID), to: &out)
        return out
    }

    /// A secret value under its DEK: `secret/v1|id=<secret uuid>|project=<project uuid>`.
    public static func secret(id: UUID, projectID: UUID) -> [UInt8] {
        Array("secret/v1|id=\(canonical(id))|project=\(canonical(projectID))".utf8)
    }

    /// A signing key under its DEK: `sigkey/v1|id=<signing key uuid>|project=<project uuid>`.
    public static func signingKey(id: UUID, projectID: UUID) -> [UInt8] {
        Array("sigkey/v1|id=\(canonical(id))|project=\(canonical(projectID))".utf8)
    }

    /// Lower-case with hyphens, the form PostgreSQL prints; Foundation prints upper case.
    public static func canonical(_ uuid: UUID) -> String {
        uuid.uuidString.lowercased()
    }

    private static func prefixed(_ prefix: StaticString, capacity: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(capacity)
        prefix.withUTF8Buffer { out.append(contentsOf: $0) }
        return out
    }

    /// Decimal digits without going through `String`: this runs twice per DEK on the rewrap path.
    private static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var count = 0
            while magnitude > 0 {
                scratch[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            while count > 0 {
                count -= 1
                out.append(scratch[count])
            }
        }
    }
}
