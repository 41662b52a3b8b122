import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Logging

/// A runtime with one OAuth integration played by a FakeProvider, and helpers to mint real tokens through it.
struct RefreshWorld: Sendable {
    static let catalog = try! ProviderCatalog.bundled()

    let runtime: LatchkeyRuntime
    let fake: FakeProvider
    let clock: TestClock
    let provider: Provider
    let oauth: OAuthClient

    var tenantID: String { runtime.defaultTenant.id }

    static func with<T: Sendable>(
        _ kind: TestDatabases.Kind = .sqlite,
        provider id: String = "gitlab",
        _ body: @Sendable (RefreshWorld) async throws -> T
    ) async throws -> T {
        let clock = TestClock()
        let provider = catalog.provider(id: id)!
        let fake = try FakeProvider(provider: provider, clock: clock)
        return try await TestDatabases.withRuntime(kind, clock: clock) { runtime in
            _ = try await runtime.integrations.create(
                .init(key: id, provider: id, clientID: "fake-client-id", clientSecret: "fake-client-secret"),
                tenantID: runtime.defaultTenant.id,
                actor: .cli
            )
            let world = RefreshWorld(
                runtime: runtime,
                fake: fake,
                clock: clock,
                provider: provider,
                oauth: OAuthClient(transport: fake, clock: clock)
            )
            return try await body(world)
        }
    }

    /// A coordinator as one instance would have it.
    func coordinator(owner: String = "instance-a", configuration: RefreshCoordinator.Configuration = .init()) -> RefreshCoordinator {
        RefreshCoordinator(
            vault: runtime.vault,
            resolver: ProviderResolver(catalog: Self.catalog, integrations: runtime.integrations),
            oauth: oauth,
            clock: clock,
            owner: owner,
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// Connects an account at the fake (code flow) and stores it for `user`, expiring at `expiresAt`.
    func connect(user: String = "alice", account: String = "1001", expiresAt: Date?) async throws -> Credential {
        let endpoints = fake.endpoints
        let verifier = PKCE.makeVerifier()
        let request = AuthorizationRequest(
            provider: provider,
            endpoints: endpoints,
            clientID: "fake-client-id",
            redirectURI: "https://latchkey.example/connect/callback",
            scopes: provider.oauth?.defaultScopes ?? [],
            state: "s",
            codeChallenge: PKCE.challenge(for: verifier),
            nonce: nil
        )
        let callback = try await fake.authorize(url: request.url, accountID: account)
        let code = URLComponents(url: callback, resolvingAgainstBaseURL: false)!.queryItems!.first { $0.name == "code" }!.value!
        let tokens = try await oauth.exchangeCode(
            provider: provider,
            endpoints: endpoints,
            client: .init(clientID: "fake-client-id", clientSecret: "fake-client-secret", method: provider.oauth!.clientAuth),
            code: code,
            redirectURI: "https://latchkey.example/connect/callback",
            codeVerifier: verifier
        )
        var new = CredentialVault.NewCredential(
            integration: provider.id,
            externalUserID: user,
            type: .oauth2,
            secret: .init(accessToken: tokens.accessToken, refreshToken: tokens.refreshToken),
            expiresAt: expiresAt,
            scopes: tokens.scopes ?? []
        )
        new.providerAccountID = account
        return try await runtime.vault.create(new, tenantID: tenantID, actor: .cli)
    }

    func secret(_ id: String) async throws -> CredentialSecret {
        guard let loaded = try await runtime.vault.load(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("credential") }
        return loaded.secret
    }

    func credential(_ id: String) async throws -> Credential {
        guard let loaded = try await runtime.vault.load(id: id, tenantID: tenantID) else { throw LatchkeyError.notFound("credential") }
        return loaded.stored.credential
    }
}

/// Moves a TestClock forward whenever something sleeps on it, until stopped: code that waits on the injected clock
/// (backoff, waiting for another instance's lease) runs without real sleeps.
final class ClockDriver: Sendable {
    private let task: Task<Void, Never>

    init(_ clock: TestClock, step: TimeInterval = 0.1) {
        task = Task {
            while !Task.isCancelled {
                if clock.sleeperCount > 0 { clock.advance(by: step) }
                await Task.yield()
            }
        }
    }

    func stop() { task.cancel() }
    deinit { task.cancel() }
}
