import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Testing

/// The resolutions of apps, Connections and console users by email are kept like the console rule's
/// (`CredentialCache`, keyed with the app): whatever is kept, a write that has returned — in this process, or on
/// PostgreSQL in another instance — is seen by the very next call.
@Suite("Credential resolver cache")
struct ResolverCacheTests {
    typealias Query = CredentialResolver.Query

    /// Each query twice (the second from the cache when it can), then the access tokens they answer.
    static func tokens(_ world: ResolverWorld, _ app: App?, _ queries: [Query]) async throws -> [String?] {
        var answers: [String?] = []
        for query in queries {
            _ = try? await world.token(app, query)
            answers.append(try? await world.accessToken(app, query))
        }
        return answers
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppsUpdatedDeletedOrNewCredentialIsSeenByTheNextCall(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let connection = try await world.connection(world.derek)
            let alice = try await world.store(world.derek, user: "alice", token: "alice-1")
            let shared = try await world.store(world.derek, user: nil, token: "shared-1")
            let queries = [
                Query(integrationKey: "gitlab", externalUserID: "alice"),
                Query(integrationKey: "gitlab", externalUserID: "alice", connectionID: connection.id),
                Query(integrationKey: "gitlab", credentialID: alice.id),
                Query(integrationKey: "gitlab", connectionID: connection.id),
                Query(integrationKey: "gitlab"),
            ]
            #expect(try await Self.tokens(world, world.derek, queries) == ["alice-1", "alice-1", "alice-1", "shared-1", "shared-1"])
            // What a refresh writes.
            for (id, token) in [(alice.id, "alice-2"), (shared.id, "shared-2")] {
                _ = try await world.vault.update(id: id, tenantID: world.tenantID, changes: .init(secret: .init(accessToken: token)), actor: .cli)
            }
            #expect(try await Self.tokens(world, world.derek, queries) == ["alice-2", "alice-2", "alice-2", "shared-2", "shared-2"])
            // Deleted: the user falls back to the shared credential, the id is gone.
            try await world.vault.delete(id: alice.id, tenantID: world.tenantID, actor: .cli)
            #expect(try await Self.tokens(world, world.derek, queries) == ["shared-2", "shared-2", nil, "shared-2", "shared-2"])
            #expect(try await world.error(world.derek, queries[2]).code == .notFound)
            // A new credential of the user replaces the fallback at once.
            try await world.store(world.derek, user: "alice", token: "alice-new")
            #expect(try await Self.tokens(world, world.derek, queries) == ["alice-new", "alice-new", nil, "shared-2", "shared-2"])
            try await world.vault.delete(id: shared.id, tenantID: world.tenantID, actor: .cli)
            #expect(try await world.error(world.derek, queries[4]).code == .notConnected)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aConsoleUserNamedByEmailSeesTheirNewOrDeletedCredentialAtOnce(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let person = try await TestUsers.create(world.fixture, email: "alice@example.com")
            let byEmail = [Query(integrationKey: "gitlab", externalUserID: "alice@example.com")]
            try await world.store(nil, user: nil, token: "console-shared")
            #expect(try await Self.tokens(world, nil, byEmail) == ["console-shared"])
            let own = try await world.store(nil, user: person.id, token: "alice-own")
            #expect(try await Self.tokens(world, nil, byEmail) == ["alice-own"])
            try await world.vault.delete(id: own.id, tenantID: world.tenantID, actor: .cli)
            #expect(try await Self.tokens(world, nil, byEmail) == ["console-shared"])
        }
    }

    /// Two instances on one PostgreSQL database: what the second writes, the first's resolutions for an app see at once.
    @Test(arguments: TestDatabases.kinds.filter { $0 == .postgres })
    func anotherInstancesWritesAreSeenByTheNextCallOfAnApp(kind: TestDatabases.Kind) async throws {
        try await ResolverWorld.with(kind) { world in
            let connection = try await world.connection(world.derek)
            let alice = try await world.store(world.derek, user: "alice", token: "alice-1")
            try await world.store(world.derek, user: nil, token: "shared-1")
            let queries = [
                Query(integrationKey: "gitlab", externalUserID: "alice"),
                Query(integrationKey: "gitlab", externalUserID: "alice", connectionID: connection.id),
                Query(integrationKey: "gitlab", externalUserID: "alice", credentialID: alice.id),
            ]
            #expect(try await Self.tokens(world, world.derek, queries) == ["alice-1", "alice-1", "alice-1"])
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let runtime = world.fixture.runtime
            let other = try await LatchkeyRuntime.bootstrap(configuration: runtime.configuration, clock: world.clock, logger: logger)
            do {
                _ = try await other.vault.update(
                    id: alice.id,
                    tenantID: world.tenantID,
                    changes: .init(secret: .init(accessToken: "alice-elsewhere")),
                    actor: .cli
                )
                #expect(try await Self.tokens(world, world.derek, queries) == ["alice-elsewhere", "alice-elsewhere", "alice-elsewhere"])
                try await other.vault.delete(id: alice.id, tenantID: world.tenantID, actor: .cli)
                #expect(try await Self.tokens(world, world.derek, queries) == ["shared-1", "shared-1", nil])
            } catch {
                await other.database.close()
                throw error
            }
            await other.database.close()
        }
    }
}
