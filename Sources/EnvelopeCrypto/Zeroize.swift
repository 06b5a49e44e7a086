internal import CLibCrypto

/// Overwrites `buffer` with zeros in a way the optimizer cannot remove (`OPENSSL_cleanse`).
///
/// Use it on every temporary buffer that held a key or a plaintext before the memory is reused
/// or freed: a plain assignment of zeros to memory that is never read again may be dropped.
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    OPENSSL_cleanse(base, buffer.count)
}

/// Wipes the array's current storage in place. Swift may have made copies earlier that this cannot
/// reach, so it is a best effort for values that had to pass through an array.
public func secureZero(_ array: inout [UInt8]) {
    array.withUnsafeMutableBytes { secureZero($0) }
}
