import Foundation

let kek = Command(
    name: "kek",
    abstract: "Keeps a PostgreSQL secrets store safe over time: KEK rotation, re-encryption, env import, audit.",
    subcommands: [
        .demo, .bench, .migrate, .keys, .rotate, .reencrypt, .rotateRoot, .verify, .importEnv, .secrets, .signingKeys,
        .projects, .audit, .status, .serve, .jobs, .worker, .keygen, .version, .seedSynthetic,
    ]
)

let tool = CommandLineTool(root: kek, versionLine: { KekVersion.line(schemaVersion: (try? Database.migrator().latestVersion) ?? 0) })
exit(tool.run(Array(CommandLine.arguments.dropFirst())))
