import EnvelopeCrypto
import Foundation

// Before anything can hold a key: no core file, not dumpable.
for warning in ProcessHardening.apply() { FileHandle.standardError.write(Data("kek: warning: \(warning)\n".utf8)) }

let kek = Command(
    name: "kek",
    abstract: "Keeps a PostgreSQL secrets store safe over time: KEK rotation, re-encryption, env import, audit.",
    subcommands: [
        .demo, .bench, .migrate, .keys, .rotate, .reencrypt, .rotateRoot, .verify, .importEnv, .secrets, .signingKeys,
        .audit, .status, .serve, .jobs, .worker, .keygen, .version, .seedSynthetic,
    ]
)

Database.applyLockTimeout()
exit(CommandLineTool(root: kek).run(Array(CommandLine.arguments.dropFirst())))
