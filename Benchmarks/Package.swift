// swift-tools-version:6.2
import PackageDescription

// Performance measurements for Latchkey, kept apart from the main package so that its build and tests never
// depend on the benchmark tooling. Every figure is reported as a ratio against a baseline measured in the same run.
let package = Package(
    name: "latchkey-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // Named explicitly: a path dependency is otherwise known by the name of the folder the repository is cloned into.
        .package(name: "latchkey", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
    ],
    targets: [
        // `swift package benchmark`: the vault's envelope encryption against raw AES-GCM.
        .executableTarget(
            name: "CryptoBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LatchkeyCore", package: "latchkey"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/CryptoBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // `http/run.sh`: the baseline HTTP server, a bare Hummingbird JSON route.
        .executableTarget(
            name: "BareServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `http/run.sh`: the real Latchkey application, started as `latchkey serve` starts it.
        .executableTarget(
            name: "LatchkeyBenchServer",
            dependencies: [
                .product(name: "LatchkeyCore", package: "latchkey"),
                .product(name: "LatchkeyStorage", package: "latchkey"),
                .product(name: "LatchkeyBootstrap", package: "latchkey"),
                .product(name: "LatchkeyHTTP", package: "latchkey"),
                .product(name: "LatchkeyAuthServer", package: "latchkey"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // `http/proxy.sh`: the stack's own ceiling for the proxy, a bare Hummingbird route relaying with AsyncHTTPClient.
        .executableTarget(
            name: "BareRelay",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `http/run.sh`: the token route's own ceiling on the stack, the least an audited hand-out can do (a key
        // check, opening a sealed secret, one group-committed SQLite row) on Hummingbird, SQLiteNIO and swift-crypto.
        .executableTarget(
            name: "BareToken",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `connect/run.sh`: the OAuth provider the Connect flow talks to, answering its token and user-info requests
        // with fixed JSON; its own response time is the Connect benchmark's baseline.
        .executableTarget(
            name: "FakeTokenServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `sync/run.sh`: reference-data sync of many credentials against the in-process fake provider, on a fast clock.
        .executableTarget(
            name: "SyncBench",
            dependencies: [
                .product(name: "LatchkeyCore", package: "latchkey"),
                .product(name: "LatchkeyStorage", package: "latchkey"),
                .product(name: "LatchkeyBootstrap", package: "latchkey"),
                .product(name: "LatchkeyProviders", package: "latchkey"),
                .product(name: "LatchkeyOAuthClient", package: "latchkey"),
                .product(name: "LatchkeyGateway", package: "latchkey"),
                .product(name: "LatchkeyTesting", package: "latchkey"),
            ]
        ),
        // `connect/run.sh`: the load driver for connect start and callback handling, and for the fake provider directly.
        .executableTarget(
            name: "ConnectBench",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
