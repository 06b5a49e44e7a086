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
    /// DEKs a rotation's sweep skipped on every pass because other transactions hold their rows.
    case deksHeld(keks: [Int32], count: Int64, passes: Int)
    case verificationRequired(kekID: Int32)
    /// A rotation would move more DEKs onto a KEK than its wrap budget has left.
    case wrapBudgetTooSmall(kekID: Int32?, deks: Int64, headroom: Int64, limit: Int64)
    case rowFailed(table: String, id: String, reason: String)
    /// The keyring holds root key `id` with another key than the one recorded in `root_keys`.
    case rootKeyMismatch(id: String)
    /// The keyring cannot open KEKs in use; nothing was written.
    case keyringUnproven([UnopenableKEK])
    /// The active root key is new to a store that knows others, and opened nothing in use.
    case rootKeyUnknown(id: String, known: [String])

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
        case let .deksHeld(keks, count, passes):
            return "\(count) DEK\(count == 1 ? "" : "s") under KEK \(keks.map(String.init).joined(separator: ", ")) "
                + "\(count == 1 ? "is" : "are") held by other transactions "
                + "(row locks) and were skipped by all \(passes) sweep passes of this attempt; the queue retries the rotation "
                + "from its sweep. End the transaction holding them: the sessions are found through pg_locks and the rows' xmax "
                + "(runbooks/stuck-rotation.md)"
        case let .verificationRequired(kekID):
            return "cannot destroy KEK \(kekID): no successful 'kek verify' since it was retired; run 'kek verify' first"
        case let .wrapBudgetTooSmall(kekID, deks, headroom, limit):
            let target = kekID.map { "KEK \($0)" } ?? "a new KEK"
            return "refusing to rotate: \(deks) DEKs would be wrapped under \(target), which has \(headroom) wraps left "
                + "of the wrap limit \(limit) (NIST SP 800-38D 8.3); raise it with 'kek keys wrap-limit N' (at most 2^32) "
                + "or re-encrypt part of the store first"
        case let .rowFailed(table, id, reason):
            return "\(table) row \(id): \(reason)"
        case let .rootKeyMismatch(id):
            return "root key '\(id)' in KEK_ROOT_KEYS is not the key this database recorded for id '\(id)' "
                + "(its check value differs); nothing was written. Use the key that was first used under "
                + "'\(id)', or give a new root key a new id (runbooks/unopenable-kek.md)"
        case let .rootKeyUnknown(id, known):
            return "refused, nothing was written: root key '\(id)' is new to this database (it knows \(known.joined(separator: ", "))) "
                + "and this keyring opens no KEK in use. Put the new root key first and a known one after it, "
                + "then run 'kek rotate-root' (runbooks/root-key-rotation.md)"
        case let .keyringUnproven(failures):
            return "refused, nothing was written: " + UnopenableKEK.summary(failures)
        }
    }
}
