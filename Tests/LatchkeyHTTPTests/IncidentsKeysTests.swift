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
import Testing

/// Stopping keys during an incident: an admin key revoked through `/api/v1/admin-keys/{id}/revoke` is refused from
/// its next request, the key making the request included; an app disabled likewise (403). Across instances on
/// PostgreSQL: `AppKeyInstancesTests`.
@Suite("Incident key stops")
struct IncidentsKeysTests {
    @Test(arguments: TestDatabases.kinds)
    func anAdminKeyRevokedThroughTheAPIIsRefusedAtItsNextRequest(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (other, otherKey) = try await fixture.runtime.tenants.createAdminKey(tenantID: fixture.tenantID, name: "ci", actor: .cli)
            let otherHeaders: HTTPFields = [.authorization: "Bearer \(otherKey)"]
            #expect(try await client.execute(uri: "/api/v1/admin-keys", method: .get, headers: otherHeaders).status == .ok)

            let listed = try await client.execute(uri: "/api/v1/admin-keys", method: .get, headers: fixture.headers)
            let items = try #require(try listed.json["items"] as? [[String: Any]])
            #expect(Set(items.compactMap { $0["name"] as? String }) == ["test", "ci"])
            #expect(!listed.text.contains(otherKey) && !listed.text.contains(fixture.adminKey))

            let revoked = try await client.execute(uri: "/api/v1/admin-keys/\(other.id)/revoke", method: .post, headers: fixture.headers)
            #expect(try revoked.status == .ok && (revoked.json["revokedAt"] as? String) != nil)
            // Refused at once: the cache of keys does not keep it alive.
            let refused = try await client.execute(uri: "/api/v1/admin-keys", method: .get, headers: otherHeaders)
            #expect(refused.status == .unauthorized && refused.errorCode == "unauthorized")
            let again = try await client.execute(uri: "/api/v1/admin-keys/\(other.id)/revoke", method: .post, headers: fixture.headers)
            #expect(again.status == .notFound)
            let unknown = try await client.execute(uri: "/api/v1/admin-keys/\(UUID().uuidString)/revoke", method: .post, headers: fixture.headers)
            #expect(unknown.status == .notFound)
            let malformed = try await client.execute(uri: "/api/v1/admin-keys/not-a-key/revoke", method: .post, headers: fixture.headers)
            #expect(malformed.status == .badRequest && malformed.errorFields == ["id"])

            // A key may revoke itself (it was leaked): the answer is its last.
            let current = try #require(try await fixture.runtime.tenants.adminKeys.list(tenantID: fixture.tenantID).first { $0.name == "test" })
            let own = try await client.execute(uri: "/api/v1/admin-keys/\(current.id)/revoke", method: .post, headers: fixture.headers)
            #expect(own.status == .ok)
            #expect(try await client.execute(uri: "/api/v1/admin-keys", method: .get, headers: fixture.headers).status == .unauthorized)

            let events = try await fixture.runtime.audit.repository.page(tenantID: fixture.tenantID, afterSeq: nil, limit: 100)
            #expect(Set(events.filter { $0.action == "admin_key.revoke" }.compactMap(\.target)) == [other.id, current.id])
        }
    }
}
