import Foundation

/// The root key every test keyring starts from: fixed bytes, for tests only (it protects
/// nothing). Tests that need a second, wrong or impostor key spell theirs out beside the test,
/// so a reader sees how it differs from this one.
public enum TestRootKey {
    /// A `KEK_ROOT_KEYS` line with the one env root key `r1`.
    public static let line = "r1:" + Data(repeating: 7, count: 32).base64EncodedString()

    /// The environment a `kek` process or `RootKeys.fromEnvironment` reads the key from.
    public static var environment: [String: String] { ["KEK_ROOT_KEYS": line] }
}
