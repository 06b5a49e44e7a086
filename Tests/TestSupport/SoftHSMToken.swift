import Foundation

/// A private SoftHSM2 token in a temporary folder, with its own `SOFTHSM2_CONF`: tests never
/// touch the system token store. Created with `softhsm2-util --init-token` (test PINs on its
/// command line are fine: they protect nothing).
public struct SoftHSMToken: Sendable {
    public let folder: URL
    public let configPath: String
    public let pinFile: String
    public let label: String
    public static let pin = "4711-test-pin"

    /// The SoftHSM2 module of Debian's `softhsm2` package.
    public static var modulePath: String {
        ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
            .first { FileManager.default.fileExists(atPath: $0) } ?? "/usr/lib/softhsm/libsofthsm2.so"
    }

    /// One token for every in-process test: a module reads `SOFTHSM2_CONF` once, at
    /// `C_Initialize`, and is initialised once per process. Sets `SOFTHSM2_CONF` for this
    /// process and removes the token's folder at exit.
    public static func shared() throws -> SoftHSMToken { try sharedToken.get() }

    private static let sharedToken: Result<SoftHSMToken, any Error> = {
        let result = Result { try SoftHSMToken(label: "kek") }
        if case let .success(token) = result {
            setenv("SOFTHSM2_CONF", token.configPath, 1)
            atexit { try? SoftHSMToken.shared().remove() }
        }
        return result
    }()

    public init(label: String = "kek") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("softhsm-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tokens"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        configPath = folder.appendingPathComponent("softhsm2.conf").path
        let config = "directories.tokendir = \(folder.appendingPathComponent("tokens").path)\nobjectstore.backend = file\nlog.level = ERROR\n"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        pinFile = folder.appendingPathComponent("pin").path
        try (Self.pin + "\n").write(toFile: pinFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pinFile)
        self.label = label
        try run("softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", Self.pin, "--so-pin", "so-\(Self.pin)"])
    }

    /// The environment a `kek` process needs to find this token.
    public var environment: [String: String] { ["SOFTHSM2_CONF": configPath] }

    /// A keyring URI for object `object` (PIN from the pin file unless `pinFile` is false).
    public func uri(object: String, pinFile usePinFile: Bool = true, module: String = SoftHSMToken.modulePath, token: String? = nil) -> String {
        "pkcs11:token=\(token ?? label);object=\(object)?module-path=\(module)" + (usePinFile ? "&pin-source=file:\(pinFile)" : "")
    }

    /// Runs a tool (found on PATH, or an absolute path) with this token's `SOFTHSM2_CONF`;
    /// throws with its output when it fails.
    @discardableResult
    public func run(_ tool: String, _ arguments: [String], extraEnvironment: [String: String] = [:], stdin: String = "") throws -> String {
        let environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }.merging(extraEnvironment) { $1 }
        let result = try ExternalTool.run("/usr/bin/env", [tool] + arguments, environment: environment, stdin: stdin)
        guard result.status == 0 else {
            throw SoftHSMError(description: "\(tool) \(arguments.first ?? "") exited \(result.status): \(result.output)")
        }
        return result.output
    }

    public func remove() { try? FileManager.default.removeItem(at: folder) }
}

public struct SoftHSMError: Error, CustomStringConvertible {
    public let description: String
}
