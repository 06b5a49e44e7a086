import Foundation
import KeyWrapping

/// A table whose rows hold a value sealed under their own DEK (`id`, `project_id`,
/// `dek_id`, `ciphertext`), with the AAD that binds the value to its row.
///
/// Verification and re-encryption walk every such table the same way; the table names
/// here are fixed strings, never input, which is why they may appear in SQL text.
struct EncryptedValueTable: Sendable {
    let name: String
    let open: @Sendable (DEKCipher, [UInt8], UUID, UUID) throws -> [UInt8]
    let seal: @Sendable (DEKCipher, [UInt8], UUID, UUID) throws -> [UInt8]

    static let all = [
        EncryptedValueTable(
            name: "project_secrets",
            open: { try $0.openSecret($1, id: $2, projectID: $3) },
            seal: { try $0.sealSecret($1, id: $2, projectID: $3) }),
        EncryptedValueTable(
            name: "signature_keys",
            open: { try $0.openSigningKey($1, id: $2, projectID: $3) },
            seal: { try $0.sealSigningKey($1, id: $2, projectID: $3) }),
    ]
}
