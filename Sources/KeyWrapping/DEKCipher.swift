import EnvelopeCrypto
import Foundation

/// A DEK ready to seal and open the values it protects: secret values
/// (`secret/v1|id=..|project=..`) and signing keys (`sigkey/v1|id=..|project=..`).
public final class DEKCipher {
    /// The DEK's row id, for error messages.
    public let dekID: Int64
    let context: AESGCMContext

    /// Sets up a GCM context for the unwrapped DEK of row `id`.
    public init(id: Int64, key: SymmetricKey) throws {
        dekID = id
        context = try AESGCMContext(key: key)
    }

    /// Values sealed by this object (a DEK normally protects one item, so this stays tiny).
    public var sealCount: Int { context.sealCount }

    /// Seals a secret value for `project_secrets.ciphertext`.
    public func sealSecret(_ value: [UInt8], id: UUID, projectID: UUID) throws -> [UInt8] {
        do {
            return try context.seal(value, aad: AAD.secret(id: id, projectID: projectID))
        } catch {
            throw KeyWrappingError(.seal, .secret(id: id, projectID: projectID), reason: error)
        }
    }

    /// Opens a secret value; the caller owns (and should wipe) the returned bytes.
    public func openSecret(_ ciphertext: [UInt8], id: UUID, projectID: UUID) throws -> [UInt8] {
        do {
            return try context.open(ciphertext, aad: AAD.secret(id: id, projectID: projectID))
        } catch {
            throw KeyWrappingError(.open, .secret(id: id, projectID: projectID), reason: error)
        }
    }

    /// Seals a signing key for `signature_keys.ciphertext`.
    public func sealSigningKey(_ keyBytes: [UInt8], id: UUID, projectID: UUID) throws -> [UInt8] {
        do {
            return try context.seal(keyBytes, aad: AAD.signingKey(id: id, projectID: projectID))
        } catch {
            throw KeyWrappingError(.seal, .signingKey(id: id, projectID: projectID), reason: error)
        }
    }

    /// Opens a signing key; the caller owns (and should wipe) the returned bytes.
    public func openSigningKey(_ ciphertext: [UInt8], id: UUID, projectID: UUID) throws -> [UInt8] {
        do {
            return try context.open(ciphertext, aad: AAD.signingKey(id: id, projectID: projectID))
        } catch {
            throw KeyWrappingError(.open, .signingKey(id: id, projectID: projectID), reason: error)
        }
    }
}

@available(*, unavailable, message: "holds an AESGCMContext; create one per thread")
extension DEKCipher: Sendable {}
