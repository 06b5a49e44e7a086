import Foundation
import KeyWrapping

/// Failures of the secret and signing-key stores: each names the project and item and says
/// what to do, and none carries a value.
public enum SecretStoreError: Error, CustomStringConvertible, Equatable {
    case invalidName(String)
    case valueTooLarge(name: String, size: Int, limit: Int)
    case secretNotFound(project: UUID, name: String)
    case secretHasNoValue(project: UUID, name: String)
    case signingKeyNotFound(project: UUID, id: UUID)
    case signingKeyStatus(id: UUID, status: String, action: String)
    case unreadableInput(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidName(problem):
            return problem
        case let .valueTooLarge(name, size, limit):
            return "value of \(name) is \(size) bytes; the limit is \(limit)"
        case let .secretNotFound(project, name):
            // A name given on the command line is echoed only when valid: it may be a value typed in the wrong place.
            let shown = SecretName.validated(name) ?? "of \(name.utf8.count) bytes (not shown: not a valid name)"
            return "project \(AAD.canonical(project)) has no secret named \(shown) (see 'kek secrets list')"
        case let .secretHasNoValue(project, name):
            return "secret \(name) of project \(AAD.canonical(project)) is a declared stub with no value yet; "
                + "give it one with 'kek secrets put'"
        case let .signingKeyNotFound(project, id):
            return "project \(AAD.canonical(project)) has no signing key \(AAD.canonical(id)) (see 'kek signing-keys list')"
        case let .signingKeyStatus(id, status, action):
            return "cannot \(action) signing key \(AAD.canonical(id)): it is \(status)"
        case let .unreadableInput(path, reason):
            return "cannot read \(path): \(reason)"
        }
    }
}
