import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Testing

/// The token route keeps the sealed rows it read (`CredentialCache`): whatever it keeps, a write that has returned —
/// in this process, or on PostgreSQL in another instance — is seen by the very next call.
@Suite("Token path cache")
struct TokenPathCacheTests {
    static func token(_ client: any TestClientProtocol, _ fixture: TestFixture, _ object: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/credentials/token", method: .post, headers: fixture.headers, body: try body(object))
    }

    static func reveal(_ client: any TestClientProtocol, _ fixture: TestFixture, _ id: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/credentials/\(id)/reveal", method: .post, headers: fixture.headers)
    }

    static var alice: [String: Any] { ["integration": "gitlab", "externalUserId": "alice"] }

    @Test(arguments: TestDatabases.kinds)
    func aDeletedCredentialsTokenIsNotHandedOutAgain(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            for _ in 0..<2 {
                #expect(try await Self.token(client, fixture, Self.alice).status == .ok)
                #expect(try await Self.token(client, fixture, ["integration": "gitlab", "credentialId": id]).status == .ok)
                #expect(try await Self.reveal(client, fixture, id).status == .ok)
            }
            let deleted = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .delete, headers: fixture.headers)
            #expect(deleted.status == .noContent)
            #expect(try await Self.reveal(client, fixture, id).status == .notFound)
            let gone = try await Self.token(client, fixture, Self.alice)
            #expect(gone.status == .conflict)
            #expect(gone.errorCode == "not_connected")
            #expect(try await Self.token(client, fixture, ["integration": "gitlab", "credentialId": id]).status == .notFound)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aNewTokenOrStatusIsHandedOutFromTheNextCall(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            let first = try #require(try await Self.token(client, fixture, Self.alice).json["accessToken"] as? String)
            #expect(try await Self.token(client, fixture, Self.alice).json["accessToken"] as? String == first)
            // What a refresh writes: a new token, a newer version of the row.
            let vault = fixture.runtime.vault
            _ = try await vault.update(
                id: id,
                tenantID: fixture.tenantID,
                changes: .init(secret: CredentialSecret(accessToken: "refreshed-token")),
                actor: .cli
            )
            #expect(try await Self.token(client, fixture, Self.alice).json["accessToken"] as? String == "refreshed-token")
            #expect(try await Self.reveal(client, fixture, id).text.contains("refreshed-token"))
            #expect(
                try await Self.token(client, fixture, ["integration": "gitlab", "credentialId": id]).json["accessToken"] as? String
                    == "refreshed-token"
            )
            // Revoked: refused from the next call on.
            _ = try await vault.update(id: id, tenantID: fixture.tenantID, changes: .init(status: .revoked), actor: .cli)
            let revoked = try await Self.token(client, fixture, Self.alice)
            #expect(revoked.status == .conflict)
            #expect(revoked.errorCode == "needs_reauth")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aUsersOwnNewCredentialReplacesTheSharedFallbackAtOnce(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            let shared = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: nil, expiresAt: "2099-01-01T00:00:00Z")
            #expect(try await Self.token(client, fixture, Self.alice).json["credentialId"] as? String == shared)
            let own = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            #expect(try await Self.token(client, fixture, Self.alice).json["credentialId"] as? String == own)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theTokenPathReadsTheReKeyedRowAfterARewrap(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, _ in
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            let runtime = fixture.runtime
            let before = try #require(try await runtime.vault.loadForToken(id: id, tenantID: fixture.tenantID))
            let accessToken = try #require(try await Self.token(client, fixture, Self.alice).json["accessToken"] as? String)
            let version = try await runtime.keyManager.rotate(runtime.keyring)
            #expect(try await runtime.rewrapService().runBatch() == 1)
            let after = try #require(try await runtime.vault.loadForToken(id: id, tenantID: fixture.tenantID))
            #expect(before.stored.credential.keyVersion < version)
            #expect(after.stored.credential.keyVersion == version)
            #expect(after.stored.payload != before.stored.payload)
            #expect(try await Self.token(client, fixture, Self.alice).json["accessToken"] as? String == accessToken)
        }
    }

    /// Two instances on one PostgreSQL database: what the second writes, the first's token route sees at once.
    @Test(arguments: TestDatabases.kinds.filter { $0 == .postgres })
    func anotherInstancesWritesAreSeenByTheNextCall(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, clock in
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let other = try await LatchkeyRuntime.bootstrap(configuration: fixture.runtime.configuration, clock: clock, logger: logger)
            do {
                for _ in 0..<2 {
                    #expect(try await Self.token(client, fixture, Self.alice).status == .ok)
                    #expect(try await Self.reveal(client, fixture, id).status == .ok)
                }
                _ = try await other.vault.update(
                    id: id,
                    tenantID: fixture.tenantID,
                    changes: .init(secret: CredentialSecret(accessToken: "refreshed-elsewhere")),
                    actor: .cli
                )
                #expect(try await Self.token(client, fixture, Self.alice).json["accessToken"] as? String == "refreshed-elsewhere")
                #expect(try await Self.reveal(client, fixture, id).text.contains("refreshed-elsewhere"))
                #expect(
                    try await Self.token(client, fixture, ["integration": "gitlab", "credentialId": id]).json["accessToken"] as? String
                        == "refreshed-elsewhere"
                )
                try await other.vault.delete(id: id, tenantID: fixture.tenantID, actor: .cli)
                #expect(try await Self.token(client, fixture, Self.alice).errorCode == "not_connected")
                #expect(try await Self.token(client, fixture, ["integration": "gitlab", "credentialId": id]).status == .notFound)
            } catch {
                await other.database.close()
                throw error
            }
            await other.database.close()
        }
    }
}
