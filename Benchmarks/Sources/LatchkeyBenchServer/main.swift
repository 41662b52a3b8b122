// The real Latchkey server for the HTTP benchmark, started the way `latchkey serve` starts it (same runtime
// bootstrap, same application, same metrics registry), with warning-level logging so that request logs do not
// dominate what is measured.
//
//     LatchkeyBenchServer --port PORT --data-dir DIR [--seed [--app-users N]]
//         [--oauth-seed DIR [--oauth-runs N] [--oauth-codes N] [--oauth-refresh N] [--oauth-redirect URI]]
//
// LATCHKEY_* environment variables apply as they do for `latchkey serve`; the flags win. With --seed, an admin key
// and one credential (a 2 KiB OAuth token set) are created before the server starts, and printed on standard output
// as ADMIN_KEY=… and CREDENTIAL_ID=… lines. LISTENING=PORT is printed once the server accepts connections.
import Foundation
import Hummingbird
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage
import Logging
import Metrics
import Prometheus

func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data(("LatchkeyBenchServer: " + text + "\n").utf8))
    exit(64)
}

var configuration = ServerConfiguration()
do {
    try configuration.applyEnvironment(ProcessInfo.processInfo.environment)
} catch {
    fail("\(error)")
}
var seed = false
var appUsers = 0
var oauthSeed: OAuthSeed?
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    switch flag {
    case "--seed":
        seed = true
    case "--app-users":
        guard !arguments.isEmpty, let count = Int(arguments.removeFirst()), count > 0 else { fail("--app-users needs a positive count") }
        appUsers = count
    case "--port":
        guard !arguments.isEmpty, let port = Int(arguments.removeFirst()), (0...65535).contains(port) else { fail("--port needs a port number") }
        configuration.port = port
    case "--oauth-seed":
        guard !arguments.isEmpty else { fail("--oauth-seed needs a directory") }
        oauthSeed = OAuthSeed(directory: arguments.removeFirst())
    case "--oauth-runs", "--oauth-codes", "--oauth-refresh":
        guard oauthSeed != nil, !arguments.isEmpty, let count = Int(arguments.removeFirst()), count > 0 else {
            fail("\(flag) needs --oauth-seed first and a positive count")
        }
        if flag == "--oauth-runs" { oauthSeed?.runs = count } else if flag == "--oauth-codes" { oauthSeed?.codes = count } else { oauthSeed?.refresh = count }
    case "--oauth-redirect":
        guard oauthSeed != nil, !arguments.isEmpty else { fail("--oauth-redirect needs --oauth-seed first and a URI") }
        oauthSeed?.redirect = arguments.removeFirst()
    case "--data-dir":
        guard !arguments.isEmpty else { fail("--data-dir needs a directory") }
        configuration.dataDirectory = arguments.removeFirst()
    default:
        fail("unknown argument \(flag); usage: LatchkeyBenchServer --port PORT --data-dir DIR [--seed [--app-users N]] [--oauth-seed DIR …]")
    }
}
configuration.host = "127.0.0.1"

let format = configuration.logFormat
LoggingSystem.bootstrap { label in LatchkeyLogHandler(label: label, format: format, level: .warning) }
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
let logger = Logger(label: "latchkey")

let runtime: LatchkeyRuntime
do {
    runtime = try await LatchkeyRuntime.bootstrap(configuration: configuration, logger: logger)
} catch {
    fail("cannot start: \(error)")
}

if seed {
    let tenantID = runtime.defaultTenant.id
    let (_, adminKey) = try await runtime.tenants.createAdminKey(tenantID: tenantID, name: "benchmark", actor: .cli)
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    func token(_ count: Int) -> String { String((0..<count).map { _ in alphabet.randomElement()! }) }
    // Sized so that the secret's JSON is 2 KiB, as in the crypto benchmarks.
    let refreshToken = token(400)
    let overhead = try JSONEncoder().encode(CredentialSecret(accessToken: "", refreshToken: refreshToken, tokenType: "Bearer")).count
    let credential = try await runtime.vault.create(
        .init(
            integration: "github",
            externalUserID: "benchmark-user",
            type: .oauth2,
            secret: CredentialSecret(accessToken: token(2048 - overhead), refreshToken: refreshToken, tokenType: "Bearer"),
            scopes: ["repo", "read:user"],
            label: "benchmark"
        ),
        tenantID: tenantID,
        actor: .cli
    )
    say("ADMIN_KEY=\(adminKey)")
    say("CREDENTIAL_ID=\(credential.id)")
    if appUsers > 0 {
        try await seedAppUsers(runtime: runtime, count: appUsers)
    }
}

if let oauthSeed {
    try await oauthSeed.run(runtime: runtime)
}

// As `latchkey serve`: a setup token is issued while the tenant has no administrator.
_ = try await runtime.tenants.issueSetupToken(tenantID: runtime.defaultTenant.id)
let app = buildApplication(runtime: runtime, dependencies: .init(registry: registry)) { channel in
    say("LISTENING=\(channel.localAddress?.port ?? 0)")
}
try await app.runService()
