import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// Data-subject requests: the export of everything held about a person (secrets excluded) and their erasure (revoked
/// at the provider, deleted, the audit chain still verifiable), for console users and an app's end users.
@Suite("Person export and erasure")
struct PersonErasureTests {
    static let passwordHash = "$2b$12$abcdefghijklmnopqrstuuJ3C1bb3TNfqq7m1MpWz9G8dz0WQ9BGm"

    /// The GitLab integration with `fake`'s OAuth client, so that its tokens can be refreshed and revoked.
    static func gitLab(_ fixture: TestFixture) async throws {
        _ = try await fixture.runtime.integrations.create(
            .init(key: "gitlab", provider: "gitlab", clientID: "fake-client-id", clientSecret: "fake-client-secret"),
            tenantID: fixture.tenantID,
            actor: .cli
        )
    }

    /// A console user with a connected GitLab account (real tokens from `fake`), as the console app's end user.
    static func alice(_ fixture: TestFixture, _ fake: FakeProvider) async throws -> (user: User, credentialID: String) {
        let runtime = fixture.runtime
        try await gitLab(fixture)
        let user = try await runtime.tenants.createUser(
            tenantID: fixture.tenantID,
            email: "alice@example.com",
            displayName: "Alice",
            passwordHash: passwordHash,
            isAdmin: false,
            actor: .cli
        )
        let console = try #require(try await runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
        let credentialID = try await EndUsersAPITests.storeAppCredential(
            fixture,
            fake,
            appID: console.id,
            externalUserID: user.id,
            issuedBy: "integration"
        )
        return (user, credentialID)
    }

    /// Every secret of the credential, as stored (to look for in answers and events).
    static func secrets(_ fixture: TestFixture, _ credentialID: String) async throws -> [String] {
        let (_, secret) = try await fixture.runtime.vault.reveal(id: credentialID, tenantID: fixture.tenantID, actor: .cli)
        return [secret.accessToken, secret.refreshToken].compactMap { $0 } + [passwordHash]
    }

    @Test(arguments: TestDatabases.kinds)
    func aUsersExportHoldsWhatIsKnownAboutThemAndNoSecret(kind: TestDatabases.Kind) async throws {
        let fake = try FakeProvider(provider: try #require(AppOAuthClientTests.catalog.provider(id: "gitlab")))
        try await TestApp.with(kind, transport: FakeNetwork([fake])) { client, fixture in
            let (alice, credentialID) = try await Self.alice(fixture, fake)
            let secrets = try await Self.secrets(fixture, credentialID)

            let response = try await client.execute(uri: "/api/v1/users/\(alice.id)/export", method: .get, headers: fixture.headers)
            #expect(response.status == .ok, "\(response.text)")
            let export = try response.json
            #expect(export["kind"] as? String == "user")
            #expect((export["profile"] as? [String: Any])?["email"] as? String == "alice@example.com")
            let credentials = try #require(export["credentials"] as? [[String: Any]])
            #expect(credentials.map { $0["id"] as? String } == [credentialID] && credentials.first?["integration"] as? String == "gitlab")
            #expect((export["identities"] as? [[String: Any]])?.first?["method"] as? String == "password")
            #expect((export["endUsers"] as? [[String: Any]])?.count == 1)
            let actions = try #require(export["auditEvents"] as? [[String: Any]]).compactMap { $0["action"] as? String }
            #expect(actions.contains("credential.create") && actions.contains("credential.reveal"))
            for secret in secrets { #expect(!response.text.contains(secret)) }
            for column in ["payload", "passwordHash", "codeHash", "publicKey", "secret\""] { #expect(!response.text.contains(column)) }

            // Audited, without the person's id or email in clear.
            let exports = try await AppsAPITests.auditActions(client, fixture, "user.export")
            #expect(exports.count == 1)
            let event = try JSONSerialization.data(withJSONObject: exports[0])
            #expect(!String(decoding: event, as: UTF8.self).contains(alice.id) && !String(decoding: event, as: UTF8.self).contains("alice@"))

            // An unknown id answers 404 in words; a malformed one 400.
            let unknown = try await client.execute(uri: "/api/v1/users/\(NewID.make())/export", method: .get, headers: fixture.headers)
            #expect(unknown.status == .notFound && unknown.text.contains("no user with that id"))
            #expect(try await client.execute(uri: "/api/v1/users/alice/export", method: .get, headers: fixture.headers).status == .badRequest)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func erasingAUserRevokesAndDeletesEverythingAndTheChainStillVerifies(kind: TestDatabases.Kind) async throws {
        let fake = try FakeProvider(provider: try #require(AppOAuthClientTests.catalog.provider(id: "gitlab")))
        try await TestApp.with(kind, transport: FakeNetwork([fake])) { client, fixture in
            let runtime = fixture.runtime
            let (alice, credentialID) = try await Self.alice(fixture, fake)
            let secrets = try await Self.secrets(fixture, credentialID)

            let erased = try await client.execute(uri: "/api/v1/users/\(alice.id)", method: .delete, headers: fixture.headers)
            #expect(erased.status == .noContent, "\(erased.text)")
            #expect(await fake.revokedTokens.count >= 1)
            await #expect(throws: (any Error).self) { _ = try await runtime.vault.get(id: credentialID, tenantID: fixture.tenantID, actor: .cli) }
            #expect(try await runtime.tenants.users.user(id: alice.id, tenantID: fixture.tenantID) == nil)
            let left = try await runtime.database.read { db in
                try await db.raw(
                    """
                    SELECT (SELECT COUNT(*) FROM identities WHERE user_id = \(bind: alice.id))
                      + (SELECT COUNT(*) FROM end_users WHERE external_id = \(bind: alice.id))
                      + (SELECT COUNT(*) FROM web_sessions WHERE user_id = \(bind: alice.id)) AS n
                    """
                ).first()?.decode(column: "n", as: Int.self)
            }
            #expect(left == 0)

            // Erasing twice, or an unknown id: 404 in words.
            let again = try await client.execute(uri: "/api/v1/users/\(alice.id)", method: .delete, headers: fixture.headers)
            #expect(again.status == .notFound && again.text.contains("gone for good"))
            #expect(try await client.execute(uri: "/api/v1/users/\(alice.id)/export", method: .get, headers: fixture.headers).status == .notFound)

            // The chain verifies; the erasure is audited with a fingerprint, and no event holds a secret.
            #expect(try await runtime.audit.verify(tenantID: fixture.tenantID).isIntact)
            let erasures = try await AppsAPITests.auditActions(client, fixture, "user.erase")
            #expect(erasures.count == 1 && (erasures[0]["target"] as? String)?.hasPrefix("fp_") == true)
            #expect((erasures[0]["details"] as? [String: String])?["credentials_deleted"] == "1")
            let export = try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers).text
            for secret in secrets { #expect(!export.contains(secret)) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theLastAdministratorIsNotErased(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let admin = try await fixture.runtime.tenants.createUser(
                tenantID: fixture.tenantID,
                email: "root@example.com",
                displayName: "Root",
                passwordHash: Self.passwordHash,
                isAdmin: true,
                actor: .cli
            )
            let refused = try await client.execute(uri: "/api/v1/users/\(admin.id)", method: .delete, headers: fixture.headers)
            #expect(refused.status == .conflict && refused.text.contains("only administrator"))
            #expect(try await fixture.runtime.tenants.users.user(id: admin.id, tenantID: fixture.tenantID) != nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anEndUsersExportAndErasure(kind: TestDatabases.Kind) async throws {
        let fake = try FakeProvider(provider: try #require(AppOAuthClientTests.catalog.provider(id: "gitlab")))
        try await TestApp.with(kind, transport: FakeNetwork([fake])) { client, fixture in
            try await Self.gitLab(fixture)
            let (appID, key) = try await AppsAPITests.createApp(client, fixture)
            let credentialID = try await EndUsersAPITests.storeAppCredential(
                fixture,
                fake,
                appID: appID,
                externalUserID: "user_sarah_123",
                issuedBy: "integration"
            )
            let secrets = try await Self.secrets(fixture, credentialID)
            let headers = AppsAPITests.appHeaders(key)

            let response = try await client.execute(uri: "/api/v1/end-users/user_sarah_123/export", method: .get, headers: headers)
            #expect(response.status == .ok, "\(response.text)")
            let export = try response.json
            #expect(export["kind"] as? String == "endUser")
            #expect((export["profile"] as? [String: Any])?["externalId"] as? String == "user_sarah_123")
            #expect((export["credentials"] as? [[String: Any]])?.map { $0["id"] as? String } == [credentialID])
            #expect(try #require(export["auditEvents"] as? [[String: Any]]).contains { $0["action"] as? String == "credential.create" })
            for secret in secrets { #expect(!response.text.contains(secret)) }
            #expect(try await AppsAPITests.auditActions(client, fixture, "end_user.export").count == 1)

            #expect(try await client.execute(uri: "/api/v1/end-users/user_sarah_123", method: .delete, headers: headers).status == .noContent)
            #expect(await fake.revokedTokens.count >= 1)
            let gone = try await client.execute(uri: "/api/v1/end-users/user_sarah_123/export", method: .get, headers: headers)
            #expect(gone.status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/end-users/user_sarah_123", method: .delete, headers: headers).status == .notFound)
            #expect(try await fixture.runtime.audit.verify(tenantID: fixture.tenantID).isIntact)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aRefreshRunningDuringTheErasureDoesNotBringTheCredentialBack(kind: TestDatabases.Kind) async throws {
        let fake = try FakeProvider(provider: try #require(AppOAuthClientTests.catalog.provider(id: "gitlab")))
        let gate = RefreshGate()
        try await TestApp.with(kind, transport: GatedTransport(inner: FakeNetwork([fake]), gate: gate)) { client, fixture in
            // The stored token expired an hour after the real now: long before the test clock's now, so the token route
            // refreshes it, and the refresh is held at the provider.
            let (alice, credentialID) = try await Self.alice(fixture, fake)
            let refreshing = Task {
                try await client.execute(
                    uri: "/api/v1/credentials/token",
                    method: .post,
                    headers: fixture.headers,
                    body: try body(["integration": "gitlab", "externalUserId": alice.id])
                )
            }
            await gate.waitUntilHeld()

            let erased = try await client.execute(uri: "/api/v1/users/\(alice.id)", method: .delete, headers: fixture.headers)
            #expect(erased.status == .noContent, "\(erased.text)")
            await gate.release()
            let answer = try await refreshing.value
            #expect(answer.status != .ok)

            // The refreshed tokens were not written anywhere: no credential of hers exists again.
            await #expect(throws: (any Error).self) {
                _ = try await fixture.runtime.vault.get(id: credentialID, tenantID: fixture.tenantID, actor: .cli)
            }
            let count = try await fixture.runtime.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM credentials").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 0)
            #expect(try await fixture.runtime.audit.verify(tenantID: fixture.tenantID).isIntact)
        }
    }
}

/// Holds the first refresh at the provider until released, and says when one is held.
actor RefreshGate {
    private var held = false
    private var heldWaiters: [CheckedContinuation<Void, Never>] = []
    private var released = false
    private var releaseWaiters: [CheckedContinuation<Void, Never>] = []

    func hold() async {
        guard !released else { return }
        held = true
        for waiter in heldWaiters { waiter.resume() }
        heldWaiters = []
        await withCheckedContinuation { releaseWaiters.append($0) }
    }

    func waitUntilHeld() async {
        if held { return }
        await withCheckedContinuation { heldWaiters.append($0) }
    }

    func release() {
        released = true
        for waiter in releaseWaiters { waiter.resume() }
        releaseWaiters = []
    }
}

/// The fake network, with every refresh-token grant held at `gate` first.
struct GatedTransport: HTTPTransport {
    let inner: FakeNetwork
    let gate: RefreshGate

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        if let body = request.body, String(decoding: body, as: UTF8.self).contains("grant_type=refresh_token") { await gate.hold() }
        return try await inner.send(request)
    }
}
