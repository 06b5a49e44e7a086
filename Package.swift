// swift-tools-version:6.0
// kek: a worker that keeps a PostgreSQL secrets store safe over time.
// Layers, each depending only on the ones above it:
//   CLibPQ, CLibCrypto, CSystemHardening   system shims
//   PostgresClient, EnvelopeCrypto, ThrowawayPostgres, HTTPServer   no domain words
//   JobQueue                    jobs, leases, checkpoints (no key words)
//   KeyManagement               KEKs, DEKs, rotation, import, audit
//   StatusAPI, kek              the HTTP status endpoints and the CLI (thin)
import PackageDescription

let package = Package(
    name: "kek",
    products: [
        .executable(name: "kek", targets: ["kek"]),
        .executable(name: "crypto-bench", targets: ["crypto-bench"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev", "libssl-dev", "pkg-config"]), .brew(["libpq"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev", "pkg-config"]), .brew(["openssl@3"])]
        ),
        .systemLibrary(name: "CSystemHardening"),
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        .target(name: "EnvelopeCrypto", dependencies: ["CLibCrypto", "CSystemHardening"]),
        .target(name: "ThrowawayPostgres"),
        .target(name: "HTTPServer"),
        .target(name: "KeyWrapping", dependencies: ["EnvelopeCrypto"]),
        .target(name: "JobQueue", dependencies: ["PostgresClient"]),
        .target(name: "KeyManagement", dependencies: ["PostgresClient", "EnvelopeCrypto", "KeyWrapping", "JobQueue"]),
        .target(name: "StatusAPI", dependencies: ["HTTPServer", "JobQueue", "KeyManagement", "PostgresClient"]),
        .executableTarget(name: "crypto-bench", dependencies: ["KeyWrapping", "EnvelopeCrypto"]),
        .executableTarget(
            name: "kek",
            dependencies: ["PostgresClient", "EnvelopeCrypto", "KeyWrapping", "JobQueue", "KeyManagement", "ThrowawayPostgres", "StatusAPI"],
            exclude: ["Bench/peer_rewrap.py"]
        ),
        .target(name: "TestSupport", dependencies: ["PostgresClient", "ThrowawayPostgres"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"]),
        .testTarget(name: "EnvelopeCryptoTests", dependencies: ["EnvelopeCrypto"], resources: [.copy("Vectors")]),
        .testTarget(name: "KeyWrappingTests", dependencies: ["KeyWrapping", "EnvelopeCrypto"]),
        .testTarget(name: "KeyManagementTests", dependencies: ["KeyManagement", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
        .testTarget(name: "JobQueueTests", dependencies: ["JobQueue", "TestSupport"]),
        .testTarget(name: "StatusAPITests", dependencies: ["StatusAPI", "TestSupport", "KeyManagement"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["kek", "TestSupport", "KeyManagement", "EnvelopeCrypto", "PostgresClient"],
            exclude: ["Fixtures"]
        ),
    ]
)
