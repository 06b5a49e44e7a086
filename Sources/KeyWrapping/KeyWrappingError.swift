import EnvelopeCrypto
import Foundation

/// A wrap, unwrap or seal that failed, naming the row and the reason.
///
/// Why a wrapper around `EnvelopeError`: a batch over millions of rows must report *which* row
/// is bad (to fix or quarantine it) without stopping to guess. Only ids appear, never bytes.
public struct KeyWrappingError: Error, Equatable, Sendable {
    /// What was being done.
    public enum Operation: String, Equatable, Sendable {
        case wrap, unwrap, rewrap, seal, open
    }

    /// The row the envelope belongs to, with the ids its associated data binds it to.
    public enum Subject: Equatable, Sendable {
        case kek(id: Int32, rootKeyID: String)
        case dek(id: Int64, kekID: Int32)
        case secret(id: UUID, projectID: UUID)
        case signingKey(id: UUID, projectID: UUID)
    }

    /// What failed.
    public let operation: Operation
    /// Which row failed, by its ids.
    public let subject: Subject
    /// For a rewrap, the KEK the DEK was being moved to.
    public let targetKEKID: Int32?
    /// What was wrong.
    public let reason: EnvelopeError

    init(_ operation: Operation, _ subject: Subject, targetKEKID: Int32? = nil, reason: any Error) {
        self.operation = operation
        self.subject = subject
        self.targetKEKID = targetKEKID
        // Everything EnvelopeCrypto throws is an EnvelopeError; anything else is a library bug.
        self.reason = reason as? EnvelopeError
            ?? .cryptoLibraryFailure(function: "unknown", reason: String(describing: type(of: reason)))
    }
}

extension KeyWrappingError: CustomStringConvertible {
    public var description: String {
        let what: String
        switch subject {
        case let .kek(id, rootKeyID):
            what = "KEK \(id) (root key \(rootKeyID))"
        case let .dek(id, kekID):
            what = targetKEKID.map { "DEK \(id) from KEK \(kekID) to KEK \($0)" } ?? "DEK \(id) (KEK \(kekID))"
        case let .secret(id, projectID):
            what = "secret \(AAD.canonical(id)) (project \(AAD.canonical(projectID)))"
        case let .signingKey(id, projectID):
            what = "signing key \(AAD.canonical(id)) (project \(AAD.canonical(projectID)))"
        }
        return "cannot \(operation.rawValue) \(what): \(reason)"
    }
}
