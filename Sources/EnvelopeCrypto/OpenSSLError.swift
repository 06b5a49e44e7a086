internal import CLibCrypto

/// Builds a `cryptoLibraryFailure` from OpenSSL's thread-local error queue and empties the queue,
/// so a later failure is not blamed on an earlier one. OpenSSL's error strings name the library
/// routine and reason, never data.
func openSSLFailure(_ function: String) -> EnvelopeError {
    let code = ERR_get_error()
    var reason = "no error code reported"
    if code != 0 {
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        reason = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
    ERR_clear_error()
    return .cryptoLibraryFailure(function: function, reason: reason)
}
