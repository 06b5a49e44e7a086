internal import CPKCS11

extension PKCS11Session {
    /// Generates an AES key of `byteCount` bytes inside the token (`CKM_AES_KEY_GEN`): a token
    /// object, private, sensitive and never extractable, usable for encrypt/decrypt and
    /// sign/verify (CMAC) only. Its bytes never leave the token, not even to this process.
    public func generateProtectedAESKey(label: String, byteCount: Int) throws -> PKCS11Object {
        try withLock { functions in
            guard let generate = functions.C_GenerateKey else {
                throw PKCS11Error.notAModule(path: module.path, reason: "it lacks C_GenerateKey")
            }
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), pParameter: nil, ulParameterLen: 0)
            var key = CK_OBJECT_HANDLE(0)
            let template: [Attribute] = [
                .ulong(UInt(CKA_CLASS), UInt(CKO_SECRET_KEY)), .ulong(UInt(CKA_KEY_TYPE), UInt(CKK_AES)),
                .ulong(UInt(CKA_VALUE_LEN), UInt(byteCount)), .text(UInt(CKA_LABEL), label),
                .bool(UInt(CKA_TOKEN), true), .bool(UInt(CKA_PRIVATE), true),
                .bool(UInt(CKA_SENSITIVE), true), .bool(UInt(CKA_EXTRACTABLE), false),
                .bool(UInt(CKA_ENCRYPT), true), .bool(UInt(CKA_DECRYPT), true),
                .bool(UInt(CKA_SIGN), true), .bool(UInt(CKA_VERIFY), true),
                .bool(UInt(CKA_WRAP), false), .bool(UInt(CKA_UNWRAP), false), .bool(UInt(CKA_DERIVE), false),
            ]
            try withTemplate(template) { pointer, count in
                try check(generate(handle, &mechanism, pointer, count, &key), "C_GenerateKey",
                          "generating AES key '\(label)' in token '\(tokenLabel)'")
            }
            return PKCS11Object(handle: key, label: label)
        }
    }

    /// Refuses a key whose bytes could leave the token, or that is not an AES key of `byteCount`
    /// bytes: extractable, not sensitive, a session object, another type or size.
    public func requireProtectedAESKey(_ key: PKCS11Object, byteCount: Int) throws {
        let keyType = try ulongAttribute(UInt(CKA_KEY_TYPE), of: key)
        let refuse = { (reason: String) in PKCS11Error.unsuitableKey(label: key.label, token: self.tokenLabel, reason: reason) }
        guard keyType == CK_ULONG(CKK_AES) else { throw refuse("it is not an AES key (CKA_KEY_TYPE 0x\(String(keyType, radix: 16)))") }
        let length = try ulongAttribute(UInt(CKA_VALUE_LEN), of: key)
        guard length == CK_ULONG(byteCount) else { throw refuse("it is \(length) bytes long, \(byteCount) are required") }
        guard try !boolAttribute(UInt(CKA_EXTRACTABLE), of: key) else {
            throw refuse("it is extractable (CKA_EXTRACTABLE is true), so its bytes could be read out of the token")
        }
        guard try boolAttribute(UInt(CKA_SENSITIVE), of: key) else {
            throw refuse("it is not sensitive (CKA_SENSITIVE is false), so its bytes could be read out of the token")
        }
        guard try boolAttribute(UInt(CKA_TOKEN), of: key) else { throw refuse("it is a session object (CKA_TOKEN is false)") }
    }

    func boolAttribute(_ type: UInt, of object: PKCS11Object) throws -> Bool {
        var value = CK_BBOOL(CK_FALSE)
        try readAttribute(type, of: object, into: &value)
        return value != CK_BBOOL(CK_FALSE)
    }

    func ulongAttribute(_ type: UInt, of object: PKCS11Object) throws -> CK_ULONG {
        var value = CK_ULONG(0)
        try readAttribute(type, of: object, into: &value)
        return value
    }

    private func readAttribute<T>(_ type: UInt, of object: PKCS11Object, into value: inout T) throws {
        try withLock { functions in
            guard let get = functions.C_GetAttributeValue else {
                throw PKCS11Error.notAModule(path: module.path, reason: "it lacks C_GetAttributeValue")
            }
            try withUnsafeMutableBytes(of: &value) { bytes in
                var attribute = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(type), pValue: bytes.baseAddress, ulValueLen: CK_ULONG(bytes.count))
                try check(get(handle, object.handle, &attribute, 1), "C_GetAttributeValue",
                          "reading attribute 0x\(String(type, radix: 16)) of '\(object.label)' in token '\(tokenLabel)'")
            }
        }
    }

    /// Asks the token for the key's `CKA_VALUE`, as anyone holding the PIN could. Only for tests
    /// that prove the token refuses (`CKR_ATTRIBUTE_SENSITIVE`): the result is never used as a key.
    func requestValueAttribute(of object: PKCS11Object) throws -> [UInt8] {
        try withLock { functions in
            var value = [UInt8](repeating: 0, count: 64)
            try value.withUnsafeMutableBytes { bytes in
                var attribute = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_VALUE), pValue: bytes.baseAddress, ulValueLen: CK_ULONG(bytes.count))
                try check(functions.C_GetAttributeValue!(handle, object.handle, &attribute, 1), "C_GetAttributeValue",
                          "reading CKA_VALUE of '\(object.label)' in token '\(tokenLabel)'")
            }
            return value
        }
    }
}
