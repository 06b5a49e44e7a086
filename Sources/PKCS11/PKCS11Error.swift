/// Why a PKCS#11 module, token or key could not be used.
///
/// Each case names what is wrong so an operator can fix it: the module path, the token or
/// object label, the C function and its `CKR_` code. Never the PIN: no case carries it, and
/// the PIN never reaches the code that builds these values.
public enum PKCS11Error: Error, Equatable, Sendable {
    /// A C function returned something other than `CKR_OK`. `context` says what was being done.
    case call(function: String, code: String, context: String)
    /// `dlopen` failed: the module file is missing or not a shared library.
    case moduleNotLoadable(path: String, reason: String)
    /// The module has no `C_GetFunctionList`, or returned an incomplete function list.
    case notAModule(path: String, reason: String)
    /// No slot holds a token with this label.
    case tokenNotFound(label: String, module: String, available: [String])
    /// Two slots hold tokens with this label: which one is meant is unclear.
    case ambiguousToken(label: String, module: String)
    /// No secret key object with this label in the token.
    case objectNotFound(label: String, token: String)
    /// More than one secret key object has this label.
    case ambiguousObject(label: String, token: String, count: Int)
    /// An object with this label exists already (refused when generating a key).
    case objectExists(label: String, token: String)
    /// The key object is not one this program will use (extractable, not AES-256, ...).
    case unsuitableKey(label: String, token: String, reason: String)
    /// The PKCS#11 URI is malformed or lacks something; `reason` names the attribute.
    case invalidURI(reason: String)
    /// The PIN could not be obtained; `reason` names the source (file path or variable), never its content.
    case pinUnavailable(reason: String)
}

extension PKCS11Error: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .call(function, code, context):
            return "\(function) failed with \(code) (\(context))"
        case let .moduleNotLoadable(path, reason):
            return "cannot load PKCS#11 module \(path): \(reason)"
        case let .notAModule(path, reason):
            return "\(path) is not a usable PKCS#11 module: \(reason)"
        case let .tokenNotFound(label, module, available):
            let present = available.isEmpty ? "no initialised token" : "tokens present: " + available.map { "'\($0)'" }.joined(separator: ", ")
            return "no PKCS#11 token labelled '\(label)' in module \(module) (\(present))"
        case let .ambiguousToken(label, module):
            return "more than one PKCS#11 token is labelled '\(label)' in module \(module); give each token its own label"
        case let .objectNotFound(label, token):
            return "no AES secret key object labelled '\(label)' in PKCS#11 token '\(token)'"
        case let .ambiguousObject(label, token, count):
            return "\(count) secret key objects are labelled '\(label)' in PKCS#11 token '\(token)'; labels must be unique"
        case let .objectExists(label, token):
            return "an object labelled '\(label)' already exists in PKCS#11 token '\(token)'; choose another label"
        case let .unsuitableKey(label, token, reason):
            return "key object '\(label)' in PKCS#11 token '\(token)' is refused: \(reason)"
        case let .invalidURI(reason):
            return "invalid PKCS#11 URI: \(reason)"
        case let .pinUnavailable(reason):
            return "no PIN for the PKCS#11 token: \(reason)"
        }
    }
}
