/// A PKCS#11 URI (RFC 7512) naming one secret key object:
/// `pkcs11:token=<label>;object=<label>[;type=secret-key]?module-path=<file>[&pin-source=file:<file>]`.
///
/// Why so few attributes: each one accepted is one more way two processes could resolve the
/// same text to different keys. Unknown attributes are refused by name, so a typo
/// (`objet=`) is an error instead of a silently different key. `pin-value` is refused: a PIN
/// must not sit in a keyring that is printed, copied and passed around.
public struct PKCS11URI: Equatable, Sendable {
    /// `CKA_LABEL` of the token (`token=`).
    public var token: String
    /// `CKA_LABEL` of the key object (`object=`).
    public var object: String
    /// The module to `dlopen` (`module-path=`).
    public var modulePath: String
    /// The file holding the PIN (`pin-source=file:<path>`), or nil to use the environment.
    public var pinFile: String?

    public init(token: String, object: String, modulePath: String, pinFile: String? = nil) {
        self.token = token
        self.object = object
        self.modulePath = modulePath
        self.pinFile = pinFile
    }

    /// The URI scheme prefix, also how a keyring tells a URI from base64 key bytes.
    public static let scheme = "pkcs11:"

    /// Parses the URI; errors name the attribute at fault, never the whole text.
    public static func parse(_ text: String) throws -> PKCS11URI {
        guard text.hasPrefix(scheme) else { throw PKCS11Error.invalidURI(reason: "it must start with '\(scheme)'") }
        let body = text.dropFirst(scheme.count)
        let parts = body.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = try attributes(parts[0], separator: ";", part: "path")
        let query = parts.count > 1 ? try attributes(parts[1], separator: "&", part: "query") : [:]

        for name in path.keys where !["token", "object", "type"].contains(name) {
            throw PKCS11Error.invalidURI(reason: "path attribute '\(name)' is not supported (use token=, object= and optionally type=secret-key)")
        }
        if query["pin-value"] != nil {
            throw PKCS11Error.invalidURI(reason: "pin-value is refused: put the PIN in a file named by pin-source=file:<path>, or in KEK_PKCS11_PIN")
        }
        for name in query.keys where !["module-path", "pin-source"].contains(name) {
            throw PKCS11Error.invalidURI(reason: "query attribute '\(name)' is not supported (use module-path= and pin-source=)")
        }
        if let type = path["type"], type != "secret-key" {
            throw PKCS11Error.invalidURI(reason: "type=\(type): the root key is a secret key (type=secret-key)")
        }
        guard let token = path["token"], !token.isEmpty else { throw PKCS11Error.invalidURI(reason: "token= (the token label) is missing") }
        guard let object = path["object"], !object.isEmpty else { throw PKCS11Error.invalidURI(reason: "object= (the key label) is missing") }
        guard let module = query["module-path"], !module.isEmpty else {
            throw PKCS11Error.invalidURI(reason: "module-path= (the PKCS#11 library to load) is missing")
        }
        return PKCS11URI(token: token, object: object, modulePath: module, pinFile: try pinFile(query["pin-source"]))
    }

    /// `pin-source` is itself a URI; only `file:` (or a bare absolute path) is accepted.
    private static func pinFile(_ source: String?) throws -> String? {
        guard let source else { return nil }
        let path = source.hasPrefix("file:") ? String(source.dropFirst(5)) : source
        guard path.hasPrefix("/") else {
            throw PKCS11Error.invalidURI(reason: "pin-source must be file:<absolute path>")
        }
        return path
    }

    private static func attributes(_ text: Substring, separator: Character, part: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (index, pair) in text.split(separator: separator).enumerated() {
            // Not shown: a malformed attribute may be a misplaced PIN.
            guard let equals = pair.firstIndex(of: "=") else {
                throw PKCS11Error.invalidURI(reason: "\(part) attribute \(index + 1) has no '=' (expected name=value)")
            }
            let name = String(pair[..<equals])
            guard result[name] == nil else { throw PKCS11Error.invalidURI(reason: "attribute '\(name)' is given twice") }
            result[name] = try percentDecoded(pair[pair.index(after: equals)...], attribute: name)
        }
        return result
    }

    /// RFC 3986 percent-decoding (`%2C` for a comma, which a keyring uses between entries).
    static func percentDecoded(_ text: Substring, attribute: String) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw PKCS11Error.invalidURI(reason: "attribute '\(attribute)' has a '%' not followed by two hex digits")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw PKCS11Error.invalidURI(reason: "attribute '\(attribute)' is not UTF-8 once decoded")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension PKCS11URI: CustomStringConvertible {
    /// Token, object and module: what an operator needs to find the key; holds no PIN.
    public var description: String { "pkcs11:token=\(token);object=\(object) (module \(modulePath))" }
}
