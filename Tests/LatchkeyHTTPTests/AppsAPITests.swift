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

@Suite("Apps API")
struct AppsAPITests {
    /// Creates an app and returns its id and key.
    static func createApp(
        _ client: any TestClientProtocol,
        _ fixture: TestFixture,
        _ object: [String: Any] = ["name": "DerekApp"]
    ) async throws -> (id: String, key: String) {
        let response = try await client.execute(uri: "/api/v1/apps", method: .post, headers: fixture.headers, body: try body(object))
        #expect(response.status == .created)
        return (try #require(try response.json["id"] as? String), try #require(try response.json["apiKey"] as? String))
    }

    static func appHeaders(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)", .contentType: "application/json"] }

    static func auditActions(_ client: any TestClientProtocol, _ fixture: TestFixture, _ action: String) async throws -> [[String: Any]] {
        let audit = try await client.execute(uri: "/api/v1/audit?action=\(action)", method: .get, headers: fixture.headers)
        return try #require(try audit.json["items"] as? [[String: Any]])
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppIsCreatedWithItsKeyShownOnceChangedAndListedBesideTheConsole(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await client.execute(
                uri: "/api/v1/apps",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "name": "DerekApp", "description": "Derek's scheduling app",
                    "branding": ["displayName": "Derek", "logoUrl": "https://derek.example/logo.png", "accentColor": "#12AB9f"],
                    "allowedRedirectOrigins": ["https://derek.example", "http://localhost:3000"],
                    "permissions": ["integrations": ["gitlab"], "operations": ["tokens"]],
                ])
            )
            #expect(created.status == .created)
            let id = try #require(try created.json["id"] as? String)
            #expect(created.headers[.location] == "/api/v1/apps/\(id)")
            let key = try #require(try created.json["apiKey"] as? String)
            #expect(key.hasPrefix("lk_app_") && key.count == "lk_app_".count + 43)
            #expect(try created.json["status"] as? String == "active")
            #expect((try created.json["branding"] as? [String: Any])?["accentColor"] as? String == "#12ab9f")
            #expect(try created.json["allowedRedirectOrigins"] as? [String] == ["https://derek.example", "http://localhost:3000"])
            #expect((try created.json["permissions"] as? [String: Any])?["operations"] as? [String] == ["tokens"])
            #expect(key.hasPrefix(try #require(try created.json["keyPrefix"] as? String)))

            // Never shown again.
            let shown = try await client.execute(uri: "/api/v1/apps/\(id)", method: .get, headers: fixture.headers)
            let shownJSON = try shown.json
            #expect(shown.status == .ok && !shown.text.contains(key) && shownJSON["apiKey"] == nil)
            let list = try await client.execute(uri: "/api/v1/apps", method: .get, headers: fixture.headers)
            let items = try #require(try list.json["items"] as? [[String: Any]])
            #expect(items.map { $0["kind"] as? String } == ["console", "external"])
            #expect(!list.text.contains(key))

            // PATCH changes only what it names; null clears the description.
            let patched = try await client.execute(
                uri: "/api/v1/apps/\(id)",
                method: .patch,
                headers: fixture.headers,
                body: try body(["description": NSNull(), "permissions": ["integrations": NSNull()]])
            )
            #expect(patched.status == .ok)
            let patchedJSON = try patched.json
            #expect(patchedJSON["description"] == nil || patchedJSON["description"] is NSNull)
            #expect(try patched.json["name"] as? String == "DerekApp")
            #expect((try patched.json["permissions"] as? [String: Any])?["integrations"] is NSNull)

            // The console app is listed but can be neither disabled nor deleted.
            let consoleID = try #require(items.first?["id"] as? String)
            let disable = try await client.execute(
                uri: "/api/v1/apps/\(consoleID)",
                method: .patch,
                headers: fixture.headers,
                body: try body(["status": "disabled"])
            )
            #expect(disable.status == .conflict && disable.errorFields == ["status"])
            #expect(try await client.execute(uri: "/api/v1/apps/\(consoleID)", method: .delete, headers: fixture.headers).status == .conflict)
            let regenerate = try await client.execute(uri: "/api/v1/apps/\(consoleID)/api-key/regenerate", method: .post, headers: fixture.headers)
            #expect(regenerate.status == .conflict)

            // Every change is audited, without the key.
            #expect(try await Self.auditActions(client, fixture, "app.create").count == 1)
            #expect(try await Self.auditActions(client, fixture, "app.update").count == 1)
            let export = try await client.execute(uri: "/api/v1/audit/export?format=jsonl", method: .get, headers: fixture.headers)
            #expect(!export.text.contains(key))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badAppBodiesAreRefusedFieldByFieldAndNothingIsCreated(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let cases: [([String: Any], String)] = [
                ([:], "name"),
                (["name": ""], "name"),
                (["name": String(repeating: "x", count: 101)], "name"),
                (["name": "A", "colour": "red"], "colour"),
                (["name": "A", "description": NSNull()], "description"),
                (["name": "A", "branding": ["accentColor": "red"]], "branding.accentColor"),
                (["name": "A", "branding": ["accentColor": "#12345"]], "branding.accentColor"),
                (["name": "A", "branding": ["logoUrl": "http://derek.example/logo.png"]], "branding.logoUrl"),
                (["name": "A", "branding": ["privacyUrl": "javascript:alert(1)"]], "branding.privacyUrl"),
                (["name": "A", "branding": ["banner": "x"]], "branding.banner"),
                (["name": "A", "branding": ["privacyUrl": NSNull()]], "branding.privacyUrl"),
                (["name": "A", "allowedRedirectOrigins": ["https://derek.example/back"]], "allowedRedirectOrigins[0]"),
                (["name": "A", "allowedRedirectOrigins": ["https://user:pw@derek.example"]], "allowedRedirectOrigins[0]"),
                (["name": "A", "allowedRedirectOrigins": ["https://derek.example#x"]], "allowedRedirectOrigins[0]"),
                (["name": "A", "allowedRedirectOrigins": ["javascript:alert(1)"]], "allowedRedirectOrigins[0]"),
                (["name": "A", "allowedRedirectOrigins": ["https://ok.example", "ftp://derek.example"]], "allowedRedirectOrigins[1]"),
                (["name": "A", "permissions": ["operations": ["reveal"]]], "permissions.operations"),
                (["name": "A", "permissions": ["operations": NSNull()]], "permissions.operations"),
                (["name": "A", "permissions": ["integrations": ["git lab"]]], "permissions.integrations"),
                (["name": "A", "permissions": ["scopes": []]], "permissions.scopes"),
            ]
            for (object, field) in cases {
                let response = try await client.execute(uri: "/api/v1/apps", method: .post, headers: fixture.headers, body: try body(object))
                #expect(response.status == .badRequest, "\(object)")
                #expect(response.errorFields == [field], "\(object): \(response.text)")
            }
            let list = try await client.execute(uri: "/api/v1/apps", method: .get, headers: fixture.headers)
            #expect((try list.json["items"] as? [[String: Any]])?.count == 1)

            let (id, _) = try await Self.createApp(client, fixture)
            let badPatches: [([String: Any], String)] = [
                (["status": "paused"], "status"),
                (["name": NSNull()], "name"),
                (["branding": NSNull()], "branding"),
                (["apiKey": "lk_app_x"], "apiKey"),
            ]
            for (object, field) in badPatches {
                let response = try await client.execute(uri: "/api/v1/apps/\(id)", method: .patch, headers: fixture.headers, body: try body(object))
                #expect(response.status == .badRequest && response.errorFields == [field], "\(object): \(response.text)")
            }
            #expect(try await client.execute(uri: "/api/v1/apps/not-an-id", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/apps/\(UUID().uuidString)", method: .get, headers: fixture.headers).status == .notFound)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppKeyIsRefusedOnAdminRoutesWhenDisabledAndOnceReplacedOrDeleted(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (id, key) = try await Self.createApp(client, fixture)
            let endUsers = "/api/v1/end-users"
            #expect(try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders(key)).status == .ok)
            // Admin routes, reveal included, stay admin-only.
            #expect(try await client.execute(uri: "/api/v1/apps", method: .get, headers: Self.appHeaders(key)).status == .forbidden)
            let reveal = try await client.execute(uri: "/api/v1/credentials/\(UUID())/reveal", method: .post, headers: Self.appHeaders(key))
            #expect(reveal.status == .forbidden)
            // An unknown app key is not valid at all.
            #expect(try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders("lk_app_nope")).status == .unauthorized)

            // Disabled: 403 with what to do; enabled again: works.
            _ = try await client.execute(uri: "/api/v1/apps/\(id)", method: .patch, headers: fixture.headers, body: try body(["status": "disabled"]))
            let disabled = try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders(key))
            #expect(disabled.status == .forbidden && disabled.text.contains("disabled"))
            _ = try await client.execute(uri: "/api/v1/apps/\(id)", method: .patch, headers: fixture.headers, body: try body(["status": "active"]))
            #expect(try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders(key)).status == .ok)

            // Regenerated: the old key stops at once, the new one works.
            let regenerated = try await client.execute(uri: "/api/v1/apps/\(id)/api-key/regenerate", method: .post, headers: fixture.headers)
            #expect(regenerated.status == .ok)
            let newKey = try #require(try regenerated.json["apiKey"] as? String)
            #expect(newKey != key)
            #expect(try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders(key)).status == .unauthorized)
            #expect(try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders(newKey)).status == .ok)
            #expect(try await Self.auditActions(client, fixture, "app.key_regenerate").count == 1)

            // Deleted: the key stops at once, the app is gone.
            #expect(try await client.execute(uri: "/api/v1/apps/\(id)", method: .delete, headers: fixture.headers).status == .noContent)
            #expect(try await client.execute(uri: endUsers, method: .get, headers: Self.appHeaders(newKey)).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/apps/\(id)", method: .get, headers: fixture.headers).status == .notFound)
            #expect(try await Self.auditActions(client, fixture, "app.delete").count == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAppKeyLimitedToOneIntegrationOrOperationIsRefusedTheRestAndItIsAudited(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (_, key) = try await Self.createApp(client, fixture, ["name": "Narrow", "permissions": ["integrations": ["gitlab"]]])
            let other = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: Self.appHeaders(key),
                body: try body(["integration": "github", "externalUserId": "sarah"])
            )
            #expect(other.status == .forbidden)
            #expect(other.text.contains("not allowed to use the integration github"))
            let (_, connectOnly) = try await Self.createApp(client, fixture, ["name": "ConnectOnly", "permissions": ["operations": ["connect"]]])
            let tokens = try await client.execute(
                uri: "/api/v1/credentials/token",
                method: .post,
                headers: Self.appHeaders(connectOnly),
                body: try body(["integration": "gitlab", "externalUserId": "sarah"])
            )
            #expect(tokens.status == .forbidden && tokens.text.contains("not allowed to use tokens"))
            let denied = try await Self.auditActions(client, fixture, "app.access_denied")
            #expect(denied.count == 2)
            #expect(denied.allSatisfy { $0["result"] as? String == "denied" })
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anotherTenantsAppIdsAnswerNotFound(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let (id, _) = try await Self.createApp(client, fixture)
            let tenant = try await fixture.runtime.tenants.createTenant(slug: "other", name: "Other", actor: .cli)
            let (_, otherKey) = try await fixture.runtime.tenants.createAdminKey(tenantID: tenant.id, name: "other", actor: .cli)
            let headers: HTTPFields = [.authorization: "Bearer \(otherKey)", .contentType: "application/json"]
            let attempts: [(String, HTTPRequest.Method, [String: Any]?)] = [
                ("/api/v1/apps/\(id)", .get, nil),
                ("/api/v1/apps/\(id)", .patch, ["name": "Mine now"]),
                ("/api/v1/apps/\(id)", .delete, nil),
                ("/api/v1/apps/\(id)/api-key/regenerate", .post, nil),
                ("/api/v1/apps/\(id)/integrations/gitlab/config", .put, ["clientId": "x"]),
                ("/api/v1/end-users?appId=\(id)", .get, nil),
            ]
            for (uri, method, object) in attempts {
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: try object.map { try body($0) })
                #expect(response.status == .notFound, "\(method) \(uri)")
            }
            let list = try await client.execute(uri: "/api/v1/apps", method: .get, headers: headers)
            #expect(!list.text.contains(id))
            #expect(try await client.execute(uri: "/api/v1/apps/\(id)", method: .get, headers: fixture.headers).status == .ok)
        }
    }
}
