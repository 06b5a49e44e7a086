import EnvelopeCrypto

/// A KEK ready to wrap, unwrap and re-wrap DEKs (`dek/v1|dek=<id>|kek=<kek id>`).
///
/// Why an object: the GCM key schedule is set up once here and reused for every DEK, which is
/// what makes re-wrapping millions of DEKs during a rotation cheap. Keep one per KEK per thread.
public final class KEKCipher {
    /// The KEK's row id; part of every DEK's associated data.
    public let kekID: Int32
    let context: AESGCMContext

    /// Sets up the KEK's GCM context once; `key` is the unwrapped KEK of row `id`.
    public init(id: Int32, key: SymmetricKey) throws {
        kekID = id
        context = try AESGCMContext(key: key)
    }

    /// DEKs wrapped under this KEK by this object since creation or the last `takeWrapCount()`.
    public var wrapCount: Int { context.sealCount }

    /// Returns `wrapCount` and resets it: add the result to the KEK's stored counter in the same
    /// transaction as the batch, so the NIST SP 800-38D §8.3 limit is enforced across restarts.
    public func takeWrapCount() -> Int { context.takeSealCount() }

    /// Wraps a DEK so it can be stored in `data_keys.wrapped_key`.
    public func wrapDEK(_ dek: SymmetricKey, dekID: Int64) throws -> [UInt8] {
        do {
            return try context.seal(dek, aad: AAD.dek(id: dekID, kekID: kekID))
        } catch {
            throw KeyWrappingError(.wrap, .dek(id: dekID, kekID: kekID), reason: error)
        }
    }

    /// Unwraps a DEK straight into key memory.
    public func unwrapDEK(_ envelope: [UInt8], dekID: Int64) throws -> SymmetricKey {
        do {
            return try context.openKey(envelope, aad: AAD.dek(id: dekID, kekID: kekID))
        } catch {
            throw KeyWrappingError(.unwrap, .dek(id: dekID, kekID: kekID), reason: error)
        }
    }

    /// Moves a wrapped DEK from `old` to `new`: opens it under `old`'s associated data and seals
    /// it under `new`'s, with the DEK only in a temporary buffer that is wiped before returning.
    /// A DEK envelope that does not hold exactly 32 bytes is refused.
    public static func rewrapDEK(
        _ envelope: [UInt8],
        dekID: Int64,
        from old: KEKCipher,
        to new: KEKCipher
    ) throws -> [UInt8] {
        do {
            let count = try Envelope.plaintextCount(forEnvelopeCount: envelope.count)
            guard envelope[0] == Envelope.version else { throw EnvelopeError.unknownVersion(envelope[0]) }
            guard count == SymmetricKey.byteCount else {
                throw EnvelopeError.plaintextLengthMismatch(expected: SymmetricKey.byteCount, found: count)
            }
            return try old.context.reseal(
                envelope,
                aad: AAD.dek(id: dekID, kekID: old.kekID),
                under: new.context,
                aad: AAD.dek(id: dekID, kekID: new.kekID)
            )
        } catch {
            throw KeyWrappingError(.rewrap, .dek(id: dekID, kekID: old.kekID), targetKEKID: new.kekID, reason: error)
        }
    }
}

@available(*, unavailable, message: "holds an AESGCMContext; create one per thread")
extension KEKCipher: Sendable {}
