import Foundation
import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Testing

/// The callback's decisions about a connect session, with sessions kept in memory: the state is single use, good for
/// ten minutes, and only the browser that started the connect can finish it.
@Suite("Connect callback and its session")
struct ConnectCallbackTests {
    struct World: Sendable {
        let connect: ConnectService
        let sessions: InMemoryConnectSessionStore
        let keyring: Keyring
        let clock: TestClock
        let user: User
    }

    /// A tenant with GitHub enabled and a console user; connect sessions in memory.
    static func withWorld(_ body: @Sendable (World) async throws -> Void) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(.sqlite, clock: clock) { runtime async throws in
            let tenantID = runtime.defaultTenant.id
            _ = try await runtime.integrations.create(
                .init(key: "github", provider: "github", clientID: "fake-client-id", clientSecret: "fake-client-secret", settings: [:]),
                tenantID: tenantID,
                actor: .cli
            )
            let user = try await runtime.tenants.createUser(
                tenantID: tenantID,
                email: "alice@example.com",
                displayName: "Alice",
                passwordHash: "not used",
                isAdmin: false,
                actor: .cli
            )
            let sessions = InMemoryConnectSessionStore()
            let keyring = runtime.keyring
            let connect = ConnectService(
                catalog: runtime.catalog,
                integrations: runtime.integrations,
                vault: runtime.vault,
                sessions: sessions,
                browser: ConnectBrowserBinding { keyring.mac($0, purpose: "connect-browser") },
                keyring: keyring,
                oauth: OAuthClient(transport: FakeNetwork(), clock: clock),
                callbackURL: "https://latchkey.example/connect/callback",
                clock: clock,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            try await body(World(connect: connect, sessions: sessions, keyring: keyring, clock: clock, user: user))
        }
    }

    /// Starts a GitHub connect in browser `b1` and returns the OAuth state sent to the provider.
    static func start(_ world: World) async throws -> String {
        let start = try await world.connect.start(user: world.user, key: "github", browserID: "b1", form: nil, reconnect: nil)
        guard case .redirect(let url, _) = start else {
            Issue.record("GitHub did not redirect to the provider")
            return ""
        }
        let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        return try #require(items.first { $0.name == "state" }?.value)
    }

    static func status(_ world: World, state: String) async -> ExchangeStatus? {
        await world.sessions.find(stateHash: world.keyring.mac(state, purpose: "connect-state"))?.session.status
    }

    /// The failure the callback answers with, or nil when it did not fail that way.
    static func failure(_ world: World, _ query: [(name: String, value: String)], browserID: String = "b1") async -> ConnectFailure? {
        do {
            _ = try await world.connect.complete(query: query, browserID: browserID, signedInUser: world.user)
            return nil
        } catch {
            return error as? ConnectFailure
        }
    }

    @Test func aDenialEndsTheSessionAndItsStateCannotBeUsedAgain() async throws {
        try await Self.withWorld { world in
            let state = try await Self.start(world)
            #expect(await Self.status(world, state: state) == .pending)

            let denied = await Self.failure(world, [("error", "access_denied"), ("state", state)])
            #expect(denied?.heading == "GitHub was not connected")
            #expect(denied?.kind == .refused && denied?.retryKey == "github")
            #expect(await Self.status(world, state: state) == .failed)

            let replay = await Self.failure(world, [("code", "c"), ("state", state)])
            #expect(replay?.message == "This sign-in link was already used. Please start again from your connections.")
            #expect(await Self.status(world, state: state) == .failed)
        }
    }

    @Test func aCallbackAfterTenMinutesExpiresTheSession() async throws {
        try await Self.withWorld { world in
            let state = try await Self.start(world)
            world.clock.advance(by: 10 * 60)

            let late = await Self.failure(world, [("code", "c"), ("state", state)])
            #expect(late?.message == "This sign-in took too long and expired. Please start again from your connections.")
            #expect(await Self.status(world, state: state) == .expired)

            let replay = await Self.failure(world, [("code", "c"), ("state", state)])
            #expect(replay?.message == "This sign-in link was already used. Please start again from your connections.")
        }
    }

    @Test func anotherBrowserCannotUseTheStateAndTheRightOneStillCan() async throws {
        try await Self.withWorld { world in
            let state = try await Self.start(world)
            let elsewhere = await Self.failure(world, [("error", "access_denied"), ("state", state)], browserID: "b2")
            #expect(elsewhere?.message.hasPrefix("This sign-in was started in another browser.") == true)
            #expect(await Self.status(world, state: state) == .pending)

            let here = await Self.failure(world, [("error", "access_denied"), ("state", state)])
            #expect(here?.heading == "GitHub was not connected")
            #expect(await Self.status(world, state: state) == .failed)
        }
    }
}
