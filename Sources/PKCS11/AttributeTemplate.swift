internal import CPKCS11

/// One attribute of a search or creation template, with its value in the C encoding.
struct Attribute {
    let type: CK_ATTRIBUTE_TYPE
    let value: [UInt8]

    static func bool(_ type: UInt, _ value: Bool) -> Attribute {
        Attribute(type: CK_ATTRIBUTE_TYPE(type), value: [value ? UInt8(CK_TRUE) : UInt8(CK_FALSE)])
    }

    static func ulong(_ type: UInt, _ value: UInt) -> Attribute {
        Attribute(type: CK_ATTRIBUTE_TYPE(type), value: withUnsafeBytes(of: CK_ULONG(value)) { Array($0) })
    }

    static func text(_ type: UInt, _ value: String) -> Attribute {
        Attribute(type: CK_ATTRIBUTE_TYPE(type), value: Array(value.utf8))
    }
}

/// Lends `attributes` to `body` as a C `CK_ATTRIBUTE` array whose value pointers stay valid
/// for the call. Templates only ever hold labels, flags and sizes, never key material.
func withTemplate<R>(_ attributes: [Attribute], _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) throws -> R) rethrows -> R {
    let total = attributes.reduce(0) { $0 + $1.value.count }
    let values = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 16)
    defer { values.deallocate() }
    let template = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: max(attributes.count, 1))
    defer { template.deallocate() }
    var offset = 0
    for (index, attribute) in attributes.enumerated() {
        let start = values.baseAddress! + offset
        attribute.value.withUnsafeBytes { if let base = $0.baseAddress { start.copyMemory(from: base, byteCount: $0.count) } }
        template[index] = CK_ATTRIBUTE(type: attribute.type, pValue: start, ulValueLen: CK_ULONG(attribute.value.count))
        offset += attribute.value.count
    }
    return try body(attributes.isEmpty ? nil : template, CK_ULONG(attributes.count))
}

/// Text of a fixed-size, space-padded `CK_UTF8CHAR` field (token labels and the like).
func paddedText<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { bytes in
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == 0 { end -= 1 }
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }
}
