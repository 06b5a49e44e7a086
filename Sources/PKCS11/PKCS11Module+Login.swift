internal import CPKCS11

extension PKCS11Module {
    /// Logs the process in to the token of `slot`, once: the first call opens a session,
    /// calls `C_Login` on it and keeps it open for the life of the process.
    ///
    /// Why keep it: PKCS#11 login state belongs to the process and ends when its last session
    /// on the token closes, so without this every short-lived session (one per job part) would
    /// log in again. That costs a round trip to a network HSM, and SoftHSM2 rewrites its token
    /// file on every successful login, which another process reading the file at that moment
    /// can take for a corrupt token. Later calls do not check `pin` again.
    func logIn(slot: CK_SLOT_ID, tokenLabel: String, pin: PIN, pinOrigin: String) throws {
        loginLock.lock()
        defer { loginLock.unlock() }
        guard loginSessions[slot] == nil else { return }
        let handle = try openSession(slot: slot, tokenLabel: tokenLabel)
        let login = try function("C_Login", \.C_Login)
        let code = pin.withUnsafeBytes { bytes in
            login(handle, CK_USER_TYPE(CKU_USER),
                  UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CK_UTF8CHAR.self)),
                  CK_ULONG(bytes.count))
        }
        // Another library in this process may have logged in first: the state is shared.
        guard code == CK_RV(CKR_OK) || code == CK_RV(CKR_USER_ALREADY_LOGGED_IN) else {
            if let close = functions.pointee.C_CloseSession { _ = close(handle) }
            throw PKCS11Error.call(function: "C_Login", code: ReturnCode.name(code),
                                   context: "logging in to token '\(tokenLabel)' with the PIN from \(pinOrigin)")
        }
        loginSessions[slot] = handle
    }

    /// A new read/write session on `slot`.
    func openSession(slot: CK_SLOT_ID, tokenLabel: String) throws -> CK_SESSION_HANDLE {
        let open = try function("C_OpenSession", \.C_OpenSession)
        var handle = CK_SESSION_HANDLE(0)
        try check(open(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &handle),
                  "C_OpenSession", "token '\(tokenLabel)' in module \(path)")
        return handle
    }
}
