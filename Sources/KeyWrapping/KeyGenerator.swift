import EnvelopeCrypto

/// New random keys for the key hierarchy.
public enum KeyGenerator {
    /// A new KEK, to be wrapped under the active root key before it is stored.
    public static func newKEK() throws -> SymmetricKey { try SymmetricKey.random() }
    /// A new DEK, to be wrapped under the active KEK before it is stored.
    public static func newDEK() throws -> SymmetricKey { try SymmetricKey.random() }
}
