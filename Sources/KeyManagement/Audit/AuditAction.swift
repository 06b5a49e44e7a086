import Foundation

/// The actions kek records. Names follow `<object>.<verb>` so that one prefix finds a kind.
public enum AuditAction: String, Sendable, CaseIterable {
    case kekGenerated = "kek.generated"
    case kekActivated = "kek.activated"
    case kekDeactivated = "kek.decrypt_only"
    case kekRetired = "kek.retired"
    case kekDestroyScheduled = "kek.destroy_scheduled"
    case kekDestroyCancelled = "kek.destroy_cancelled"
    case kekDestroyed = "kek.destroyed"
    case kekCompromised = "kek.compromised"
    case kekRewrappedUnderRoot = "kek.root_rewrapped"
    case rotationRequested = "rotation.requested"
    case rotationStarted = "rotation.started"
    case rotationFinished = "rotation.finished"
    case rotationFailed = "rotation.failed"
    case reencryptionStarted = "reencryption.started"
    case reencryptionFinished = "reencryption.finished"
    case verification = "verification.finished"
    case rootRotation = "root.rotated"
    case rootKeyRecorded = "root_key.recorded"
    case jobFailed = "job.failed"
    case secretCreated = "secret.created"
    case secretUpdated = "secret.updated"
    case secretAccessed = "secret.accessed"
    case secretDeleted = "secret.deleted"
    case envImported = "env.imported"
    case signingKeyGenerated = "signing_key.generated"
    case signingKeyRevoked = "signing_key.revoked"
    case signingKeyReactivated = "signing_key.reactivated"
    case signingKeyDeleted = "signing_key.deleted"     // by an application, written by the trigger of sql/045
    case statusUnauthorized = "status.unauthorized"
}
