/// Failures of key operations, each saying what is wrong and what to do about it.
/// None carries key material or a secret value.
public enum KeyManagementError: Error, CustomStringConvertible, Equatable {
    case rootKeyMissing(id: String, have: [String])
    /// A keyring entry names a key in a PKCS#11 token that cannot be used; `reason` says why (never the PIN).
    case rootKeyUnavailable(id: String, reason: String)
    case kekNotFound(id: Int32)
    case noActiveKEK
    case kekUnreadable(id: Int32, state: String)
    case wrongState(kekID: Int32, state: String, expected: [String], action: String)
    case deksRemain(kekID: Int32, count: Int64, action: String)
    case verificationRequired(kekID: Int32)
    case wrapLimitReached(kekID: Int32, count: Int64, limit: Int64)
    case rowFailed(table: String, id: String, reason: String)

    public var description: String {
        switch self {
        case let .rootKeyMissing(id, have):
            return "root key '\(id)' is not in KEK_ROOT_KEYS (it holds: \(have.joined(separator: ", "))); "
                + "add it back as a decrypt-only entry after the active one"
        case let .rootKeyUnavailable(id, reason):
            return "root key '\(id)' cannot be used: \(reason) (runbooks/hsm-root-key.md)"
        case let .kekNotFound(id):
            return "KEK \(id) does not exist (see 'kek keys list')"
        case .noActiveKEK:
            return "there is no active KEK; create one with 'kek keys generate --activate'"
        case let .kekUnreadable(id, state):
            return "KEK \(id) is \(state) and holds no usable key"
        case let .wrongState(kekID, state, expected, action):
            return "cannot \(action) KEK \(kekID): it is \(state), expected \(expected.joined(separator: " or "))"
        case let .deksRemain(kekID, count, action):
            return "cannot \(action) KEK \(kekID): \(count) DEKs are still wrapped under it; run 'kek rotate' first"
        case let .verificationRequired(kekID):
            return "cannot destroy KEK \(kekID): no successful 'kek verify' since it was retired; run 'kek verify' first"
        case let .wrapLimitReached(kekID, count, limit):
            return "KEK \(kekID) has made \(count) wraps; the limit is \(limit) (NIST SP 800-38D 8.3); rotate to a new KEK"
        case let .rowFailed(table, id, reason):
            return "\(table) row \(id): \(reason)"
        }
    }
}
