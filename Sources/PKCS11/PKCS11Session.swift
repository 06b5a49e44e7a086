internal import CPKCS11
import Foundation

/// A key object in a token, by handle (valid while its session is open) and label.
public struct PKCS11Object: Equatable, Sendable {
    let handle: CK_OBJECT_HANDLE
    /// `CKA_LABEL`, to name the object in errors.
    public let label: String
}

/// A logged-in read/write session on one token.
///
/// Why a lock: PKCS#11 forbids two threads using one session at the same time, and a
/// multi-part operation (`C_EncryptInit` then `C_Encrypt`) must not interleave with another.
/// Every call on the session goes through `withLock`, so sharing one by mistake is slow, not
/// corrupt. The intended use is still one session per thread of work.
public final class PKCS11Session: @unchecked Sendable {
    public let module: PKCS11Module
    /// The token's label, to name it in errors.
    public let tokenLabel: String
    let handle: CK_SESSION_HANDLE
    private let lock = NSLock()

    private init(module: PKCS11Module, tokenLabel: String, handle: CK_SESSION_HANDLE) {
        self.module = module
        self.tokenLabel = tokenLabel
        self.handle = handle
    }

    deinit {
        if let close = module.functions.pointee.C_CloseSession { _ = close(handle) }
    }

    /// Opens a session on the token labelled `tokenLabel`, the process being logged in as the
    /// user with `pin` (once per process and token: see `PKCS11Module.logIn`). `pinOrigin` (a
    /// file path or variable name) is only used to say where a wrong PIN came from.
    public static func open(module: PKCS11Module, tokenLabel: String, pin: PIN, pinOrigin: String) throws -> PKCS11Session {
        let slot = try findSlot(module: module, tokenLabel: tokenLabel)
        try module.logIn(slot: slot, tokenLabel: tokenLabel, pin: pin, pinOrigin: pinOrigin)
        return PKCS11Session(module: module, tokenLabel: tokenLabel,
                             handle: try module.openSession(slot: slot, tokenLabel: tokenLabel))
    }

    /// The slot whose token has this label; exactly one must match.
    private static func findSlot(module: PKCS11Module, tokenLabel: String) throws -> CK_SLOT_ID {
        let getSlotList = try module.function("C_GetSlotList", \.C_GetSlotList)
        let getTokenInfo = try module.function("C_GetTokenInfo", \.C_GetTokenInfo)
        var count = CK_ULONG(0)
        try check(getSlotList(CK_BBOOL(CK_TRUE), nil, &count), "C_GetSlotList", "module \(module.path)")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try check(getSlotList(CK_BBOOL(CK_TRUE), &slots, &count), "C_GetSlotList", "module \(module.path)")
        var labels: [(slot: CK_SLOT_ID, label: String)] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            try check(getTokenInfo(slot, &info), "C_GetTokenInfo", "slot \(slot) of module \(module.path)")
            guard info.flags & CK_FLAGS(CKF_TOKEN_INITIALIZED) != 0 else { continue }
            labels.append((slot, paddedText(info.label)))
        }
        let matching = labels.filter { $0.label == tokenLabel }
        guard matching.count <= 1 else { throw PKCS11Error.ambiguousToken(label: tokenLabel, module: module.path) }
        guard let match = matching.first else {
            throw PKCS11Error.tokenNotFound(label: tokenLabel, module: module.path, available: labels.map(\.label))
        }
        return match.slot
    }

    /// Runs `body` holding the session lock, with the module's function table.
    func withLock<R>(_ body: (CK_FUNCTION_LIST) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(module.functions.pointee)
    }

    /// Objects matching `attributes`, at most `limit` of them.
    func findObjects(_ attributes: [Attribute], limit: Int = 16) throws -> [CK_OBJECT_HANDLE] {
        try withLock { functions in
            guard let initFind = functions.C_FindObjectsInit, let find = functions.C_FindObjects,
                  let finalFind = functions.C_FindObjectsFinal else {
                throw PKCS11Error.notAModule(path: module.path, reason: "it lacks C_FindObjects")
            }
            try withTemplate(attributes) { template, count in
                try check(initFind(handle, template, count), "C_FindObjectsInit", "token '\(tokenLabel)'")
            }
            defer { _ = finalFind(handle) }
            var found = [CK_OBJECT_HANDLE](repeating: 0, count: limit)
            var count = CK_ULONG(0)
            try check(find(handle, &found, CK_ULONG(limit), &count), "C_FindObjects", "token '\(tokenLabel)'")
            return Array(found.prefix(Int(count)))
        }
    }

    /// Whether any object (of any class) in the token has this label.
    public func hasObject(label: String) throws -> Bool {
        try !findObjects([.text(UInt(CKA_LABEL), label)], limit: 1).isEmpty
    }

    /// The one secret key object with this label.
    public func secretKey(label: String) throws -> PKCS11Object {
        let found = try findObjects([.ulong(UInt(CKA_CLASS), UInt(CKO_SECRET_KEY)), .text(UInt(CKA_LABEL), label)])
        guard !found.isEmpty else { throw PKCS11Error.objectNotFound(label: label, token: tokenLabel) }
        guard found.count == 1 else { throw PKCS11Error.ambiguousObject(label: label, token: tokenLabel, count: found.count) }
        return PKCS11Object(handle: found[0], label: label)
    }
}
