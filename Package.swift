// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "latchkey",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "latchkey", targets: ["latchkey"]),
        .library(name: "LatchkeyCore", targets: ["LatchkeyCore"]),
        .library(name: "LatchkeyStorage", targets: ["LatchkeyStorage"]),
        .library(name: "LatchkeyBootstrap", targets: ["LatchkeyBootstrap"]),
        .library(name: "LatchkeyHTTP", targets: ["LatchkeyHTTP"]),
        .library(name: "LatchkeyTesting", targets: ["LatchkeyTesting"]),
        .library(name: "LatchkeyHTTPTesting", targets: ["LatchkeyHTTPTesting"]),
        .library(name: "LatchkeyProviders", targets: ["LatchkeyProviders"]),
        .library(name: "LatchkeyOAuthClient", targets: ["LatchkeyOAuthClient"]),
        .library(name: "LatchkeyLifecycle", targets: ["LatchkeyLifecycle"]),
        .library(name: "LatchkeyConnect", targets: ["LatchkeyConnect"]),
        .library(name: "LatchkeyGateway", targets: ["LatchkeyGateway"]),
        .library(name: "LatchkeyAuthServer", targets: ["LatchkeyAuthServer"]),
        .library(name: "LatchkeyIdentity", targets: ["LatchkeyIdentity"]),
        .library(name: "LatchkeyMCP", targets: ["LatchkeyMCP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // Outbound calls to providers: token exchange, user-info, revocation.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Already in the graph through Hummingbird and AsyncHTTPClient; named because the code imports NIOCore and NIOPosix.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        // Already in the graph through Hummingbird; named so that header names can be spelled out.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Already in the graph through AsyncHTTPClient; STARTTLS of the SMTP client that sends email codes.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Checks single sign-on id_tokens against a provider's published keys.
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        // Already in the graph through jwt-kit; tests make the certificates they serve HTTPS with.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // Already in the graph through Hummingbird; named because the code makes spans (OpenTelemetry tracing).
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // Exports the spans over OTLP/HTTP when OTEL_* settings ask for it; the gRPC exporter (a much larger build) is
        // left out by enabling only the OTLPHTTP trait.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(
            name: "LatchkeyCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyProviders",
            dependencies: [
                "LatchkeyCore"
            ],
            resources: [.copy("Catalog")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyOAuthClient",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyProviders",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyStorage",
            dependencies: [
                "LatchkeyCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyLifecycle",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyGateway",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyLifecycle",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyMCP",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyGateway",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyConnect",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyLifecycle",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyAuthServer",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyOAuthClient",
                "LatchkeyStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyIdentity",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyOAuthClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyBootstrap",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyLifecycle",
                "LatchkeyGateway",
                "LatchkeyConnect",
                "LatchkeyAuthServer",
                "LatchkeyIdentity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyHTTP",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyLifecycle",
                "LatchkeyGateway",
                "LatchkeyBootstrap",
                "LatchkeyConnect",
                "LatchkeyAuthServer",
                "LatchkeyMCP",
                "LatchkeyIdentity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            resources: [.copy("OpenAPI/openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "latchkey",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyBootstrap",
                "LatchkeyHTTP",
                "LatchkeyProviders",
                "LatchkeyConnect",
                "LatchkeyOAuthClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyTesting",
            dependencies: [
                "LatchkeyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyBootstrap",
                "LatchkeyIdentity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LatchkeyHTTPTesting",
            dependencies: [
                "LatchkeyTesting",
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyOAuthClient",
                "LatchkeyBootstrap",
                "LatchkeyHTTP",
                "LatchkeyMCP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyCoreTests",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyProvidersTests",
            dependencies: [
                "LatchkeyProviders"
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyOAuthClientTests",
            dependencies: [
                "LatchkeyOAuthClient",
                "LatchkeyProviders",
                "LatchkeyTesting",
                "LatchkeyCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyLifecycleTests",
            dependencies: [
                "LatchkeyLifecycle",
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyBootstrap",
                "LatchkeyTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyConnectTests",
            dependencies: [
                "LatchkeyConnect",
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyBootstrap",
                "LatchkeyTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyIdentityTests",
            dependencies: [
                "LatchkeyIdentity",
                "LatchkeyCore",
                "LatchkeyOAuthClient",
                "LatchkeyTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyAuthServerTests",
            dependencies: [
                "LatchkeyAuthServer",
                "LatchkeyCore",
                "LatchkeyOAuthClient",
                "LatchkeyStorage",
                "LatchkeyBootstrap",
                "LatchkeyTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyMCPTests",
            dependencies: [
                "LatchkeyMCP",
                "LatchkeyCore",
                "LatchkeyOAuthClient",
                "LatchkeyTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyStorageTests",
            dependencies: [
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyBootstrap",
                "LatchkeyTesting",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LatchkeyHTTPTests",
            dependencies: [
                "LatchkeyConnect",
                "LatchkeyIdentity",
                "LatchkeyCore",
                "LatchkeyStorage",
                "LatchkeyHTTP",
                "LatchkeyBootstrap",
                "LatchkeyTesting",
                "LatchkeyHTTPTesting",
                "LatchkeyProviders",
                "LatchkeyOAuthClient",
                "LatchkeyLifecycle",
                "LatchkeyGateway",
                "LatchkeyAuthServer",
                "LatchkeyMCP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
