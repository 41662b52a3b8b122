import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// An app's view of one end user's connections: status and health, disconnect, reconnect; and an admin creating an
/// app's Connection.
@Suite("Connect users API")
struct ConnectUsersAPITests {
    typealias World = HostedConnectPageTests.World

    /// Connects GitHub for `user` through the hosted page; returns the credential and connection ids.
    static func connect(_ world: World, user: String) async throws -> (credential: String, connection: String) {
        let (id, path) = try await HostedConnectPageTests.session(world, user: user)
        let browser = WebBrowser(world.client)
        _ = try await browser.get(path)
        let started = try await browser.post(path, csrf: false)
        let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))), accountID: "acct-\(user)")
        _ = try await browser.get(WebBrowser.pathAndQuery(callback))
        let read = try await HostedConnectPageTests.status(world, id)
        return (try #require(read["credentialId"] as? String), try #require(read["connectionId"] as? String))
    }

    static func connections(_ world: World, _ user: String, key: String? = nil) async throws -> [[String: Any]] {
        let response = try await world.client.execute(
            uri: "/api/v1/connect/users/\(user)/connections",
            method: .get,
            headers: AppsAPITests.appHeaders(key ?? world.app.key)
        )
        #expect(response.status == .ok)
        return try #require(try response.json["items"] as? [[String: Any]])
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppSeesWhenItsUserMustReconnectAndGetsAReconnectSession(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (credentialID, connectionID) = try await Self.connect(world, user: "sarah")
            var items = try await Self.connections(world, "sarah")
            #expect(items.count == 1)
            #expect(items.first?["id"] as? String == connectionID)
            #expect(items.first?["integration"] as? String == "github")
            #expect(items.first?["status"] as? String == "connected")
            #expect(items.first?["needsReconnect"] as? Bool == false)
            #expect(items.first?["health"] is String)
            #expect((items.first?["credentials"] as? [[String: Any]])?.first?["id"] as? String == credentialID)
            #expect(try await Self.connections(world, "nobody").isEmpty)

            // The provider revoked it: the app learns the person must reconnect.
            _ = try await world.fixture.runtime.vault.update(
                id: credentialID,
                tenantID: world.fixture.tenantID,
                changes: .init(status: .needsReauth),
                actor: .cli
            )
            items = try await Self.connections(world, "sarah")
            #expect(items.first?["status"] as? String == "needs_reauth")
            #expect(items.first?["needsReconnect"] as? Bool == true)

            let reconnect = try await world.client.execute(
                uri: "/api/v1/connect/users/sarah/connections/\(connectionID)/reconnect",
                method: .post,
                headers: AppsAPITests.appHeaders(world.app.key),
                body: try body(["redirectUrl": "https://derek.example/again"])
            )
            #expect(reconnect.status == .created)
            let token = try #require(try reconnect.json["token"] as? String)
            #expect(token.hasPrefix("lk_cs_"))
            let sessionID = try #require(try reconnect.json["id"] as? String)
            #expect(try await HostedConnectPageTests.status(world, sessionID)["status"] as? String == "pending")
            let audited = try await AppsAPITests.auditActions(world.client, world.fixture, "connect_session.created")
            #expect(audited.contains { ($0["details"] as? [String: Any])?["reconnect_credential_id"] as? String == credentialID })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func disconnectingRevokesAndDeletesOnlyThatPersonsCredentials(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (sarahs, connectionID) = try await Self.connect(world, user: "sarah")
            let (toms, _) = try await Self.connect(world, user: "tom")
            // Another app cannot see or touch them.
            let other = try await AppsAPITests.createApp(world.client, world.fixture, ["name": "OtherApp"])
            #expect(try await Self.connections(world, "sarah", key: other.key).isEmpty)
            let probe = try await world.client.execute(
                uri: "/api/v1/connect/users/sarah/connections/\(connectionID)",
                method: .delete,
                headers: AppsAPITests.appHeaders(other.key)
            )
            #expect(probe.status == .notFound)
            #expect(
                try await AppsAPITests.auditActions(world.client, world.fixture, "app.access_denied").contains { $0["target"] as? String == other.id }
            )
            let admin = try await world.client.execute(uri: "/api/v1/connect/users/sarah/connections", method: .get, headers: world.fixture.headers)
            #expect(admin.status == .forbidden)

            let deleted = try await world.client.execute(
                uri: "/api/v1/connect/users/sarah/connections/\(connectionID)",
                method: .delete,
                headers: AppsAPITests.appHeaders(world.app.key)
            )
            #expect(deleted.status == .noContent)
            #expect(try await Self.connections(world, "sarah").isEmpty)
            let vault = world.fixture.runtime.vault
            await #expect(throws: LatchkeyError.self) { _ = try await vault.get(id: sarahs, tenantID: world.fixture.tenantID, actor: .cli) }
            #expect(try await vault.get(id: toms, tenantID: world.fixture.tenantID, actor: .cli).status == .active)
            let again = try await world.client.execute(
                uri: "/api/v1/connect/users/sarah/connections/\(connectionID)",
                method: .delete,
                headers: AppsAPITests.appHeaders(world.app.key)
            )
            #expect(again.status == .notFound)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAdminCreatesAnAppsConnection(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let created = try await world.client.execute(
                uri: "/api/v1/connections",
                method: .post,
                headers: world.fixture.headers,
                body: try body(["integration": "github", "appId": world.app.id])
            )
            #expect(created.status == .created)
            #expect(try created.json["appId"] as? String == world.app.id)
            let bad = try await world.client.execute(
                uri: "/api/v1/connections",
                method: .post,
                headers: world.fixture.headers,
                body: try body(["integration": "github", "appId": "nope"])
            )
            #expect(bad.status == .badRequest && bad.errorFields == ["appId"])
            let unknown = try await world.client.execute(
                uri: "/api/v1/connections",
                method: .post,
                headers: world.fixture.headers,
                body: try body(["integration": "github", "appId": UUID().uuidString])
            )
            #expect(unknown.status == .notFound)
            let byApp = try await world.client.execute(
                uri: "/api/v1/connections",
                method: .post,
                headers: AppsAPITests.appHeaders(world.app.key),
                body: try body(["integration": "github", "appId": world.app.id])
            )
            #expect(byApp.status == .forbidden)
        }
    }
}
