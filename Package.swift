// swift-tools-version:6.0
// kek: a worker that keeps a PostgreSQL secrets store safe over time.
// Layers, each depending only on the ones above it:
//   CLibPQ, CLibCrypto, CSystemHardening   system shims
//   CPKCS11                     PKCS#11 headers (the module is dlopen'ed at run time)
//   PostgresClient, EnvelopeCrypto, ThrowawayPostgres, HTTPServer, PKCS11   no domain words
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
        // PKCS#11 headers only (libp11-kit-dev): the module itself is loaded with dlopen.
        .systemLibrary(name: "CPKCS11", providers: [.apt(["libp11-kit-dev"])]),
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        .target(name: "EnvelopeCrypto", dependencies: ["CLibCrypto", "CSystemHardening"]),
        .target(name: "ThrowawayPostgres"),
        .target(name: "HTTPServer"),
        .target(name: "PKCS11", dependencies: ["CPKCS11"]),
        .target(name: "KeyWrapping", dependencies: ["EnvelopeCrypto", "PKCS11"]),
        .target(name: "JobQueue", dependencies: ["PostgresClient"]),
        .target(name: "KeyManagement", dependencies: ["PostgresClient", "EnvelopeCrypto", "KeyWrapping", "PKCS11", "JobQueue"]),
        .target(name: "StatusAPI", dependencies: ["HTTPServer", "JobQueue", "KeyManagement", "PostgresClient"]),
        // Migrations embedded in the binary: a generator run at build time by a build-tool plugin
        // over sql/*.sql (both live under Sources/ to keep the top-level layout fixed).
        .executableTarget(name: "embed-migrations", path: "Sources/embed-migrations"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"],
                path: "Sources/EmbedMigrationsPlugin"),
        .target(name: "KekMigrations", plugins: ["EmbedMigrations"]),
        .executableTarget(name: "crypto-bench", dependencies: ["KeyWrapping", "EnvelopeCrypto"]),
        .executableTarget(
            name: "kek",
            dependencies: ["PostgresClient", "EnvelopeCrypto", "KeyWrapping", "PKCS11", "JobQueue", "KeyManagement", "ThrowawayPostgres",
                           "StatusAPI", "KekMigrations"],
            exclude: ["Bench/peer_rewrap.py"]
        ),
        // Test helpers in two parts. HTTPTestSupport: what needs no database (one raw socket client,
        // one curl runner, the seeded generator), so HTTPServerTests builds and runs without
        // PostgreSQL. TestSupport: the suite's PostgreSQL, logins, the test root key, fixture
        // helpers, the tool runner and the SoftHSM2 token.
        .target(name: "HTTPTestSupport", path: "Tests/HTTPTestSupport"),
        .target(name: "TestSupport", dependencies: ["PostgresClient", "ThrowawayPostgres", "KekMigrations"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"]),
        .testTarget(name: "EnvelopeCryptoTests", dependencies: ["EnvelopeCrypto"], resources: [.copy("Vectors")]),
        .testTarget(name: "KeyWrappingTests", dependencies: ["KeyWrapping", "EnvelopeCrypto"]),
        .testTarget(name: "PKCS11Tests", dependencies: ["PKCS11", "KeyWrapping", "EnvelopeCrypto", "TestSupport"]),
        .testTarget(name: "KeyManagementTests", dependencies: ["KeyManagement", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPTestSupport"]),
        .testTarget(name: "JobQueueTests", dependencies: ["JobQueue", "TestSupport"]),
        .testTarget(name: "StatusAPITests", dependencies: ["StatusAPI", "TestSupport", "HTTPTestSupport", "KeyManagement"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["kek", "TestSupport", "HTTPTestSupport", "KeyManagement", "EnvelopeCrypto", "PostgresClient"],
            exclude: ["Fixtures"]
        ),
    ]
)
