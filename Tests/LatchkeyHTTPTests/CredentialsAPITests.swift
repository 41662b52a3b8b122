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
import NIOCore
import Testing

@Suite("Credentials API")
struct CredentialsAPITests {
    static var github: [String: Any] {
        [
            "integration": "github", "externalUserId": "alice", "type": "oauth2", "accessToken": "gho_token_1", "refreshToken": "ghr_1",
            "expiresAt": "2030-01-01T00:00:00Z", "scopes": ["repo"], "label": "work", "providerAccount": "alice@company.com",
        ]
    }

    @Test(arguments: TestDatabases.kinds)
    func anAdminStoresListsRevealsUpdatesAndDeletesACredential(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(Self.github))
            #expect(created.status == .created)
            let credential = try created.json
            let id = try #require(credential["id"] as? String)
            #expect(created.headers[.location] == "/api/v1/credentials/\(id)")
            #expect(credential["integration"] as? String == "github" && credential["externalUserId"] as? String == "alice")
            #expect(credential["providerAccount"] as? String == "alice@company.com" && credential["isDefault"] as? Bool == true)
            #expect(credential["expiresAt"] as? String == "2030-01-01T00:00:00Z")
            #expect(!created.text.contains("gho_token_1") && !created.text.contains("ghr_1"))

            let list = try await client.execute(uri: "/api/v1/credentials?integration=github", method: .get, headers: fixture.headers)
            #expect(list.status == .ok)
            let items = try #require(try list.json["items"] as? [[String: Any]])
            #expect(items.count == 1 && items[0]["id"] as? String == id)
            #expect(try list.json.keys.contains("nextCursor"))
            #expect(!list.text.contains("gho_token_1"))

            let shown = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: fixture.headers)
            #expect(shown.status == .ok && !shown.text.contains("gho_token_1"))

            let revealed = try await client.execute(uri: "/api/v1/credentials/\(id)/reveal", method: .post, headers: fixture.headers)
            #expect(revealed.status == .ok)
            let secret = try #require(try revealed.json["secret"] as? [String: Any])
            #expect(secret["accessToken"] as? String == "gho_token_1" && secret["refreshToken"] as? String == "ghr_1")
            #expect(revealed.headers[.cacheControl] == "no-store")

            // A label is shown on one line: a line break in it is refused, and nothing changes.
            let twoLines = try await client.execute(
                uri: "/api/v1/credentials/\(id)",
                method: .patch,
                headers: fixture.headers,
                body: body(["label": "work\nhome"])
            )
            #expect(twoLines.status == .badRequest && twoLines.errorCode == "invalid_request")
            let patched = try await client.execute(
                uri: "/api/v1/credentials/\(id)",
                method: .patch,
                headers: fixture.headers,
                body: body(["label": "personal", "accessToken": "gho_token_2"])
            )
            #expect(patched.status == .ok)
            #expect(try patched.json["label"] as? String == "personal" && patched.json["version"] as? Int == 2)
            let again = try await client.execute(uri: "/api/v1/credentials/\(id)/reveal", method: .post, headers: fixture.headers)
            let secret2 = try #require(try again.json["secret"] as? [String: Any])
            #expect(secret2["accessToken"] as? String == "gho_token_2" && secret2["refreshToken"] as? String == "ghr_1")

            let deleted = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .delete, headers: fixture.headers)
            #expect(deleted.status == .noContent)
            let gone = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: fixture.headers)
            #expect(gone.status == .notFound && gone.errorCode == "not_found")

            let audit = try await client.execute(uri: "/api/v1/audit?limit=50", method: .get, headers: fixture.headers)
            let actions = try #require(try audit.json["items"] as? [[String: Any]]).compactMap { $0["action"] as? String }
            // Newest first: the read of the deleted id is recorded like any probe of an id the tenant does not have.
            #expect(
                actions.prefix(6) == [
                    "credential.access_denied", "credential.delete", "credential.reveal", "credential.update", "credential.reveal",
                    "credential.create",
                ]
            )
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func apiKeyAndBasicCredentialsNeedTheirSecrets(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let apiKey = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "openai", "type": "api_key", "apiKey": "sk-123"])
            )
            #expect(apiKey.status == .created)
            #expect(try apiKey.json["externalUserId"] == nil)
            let basic = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "twilio", "type": "basic", "username": "AC1", "password": "pw"])
            )
            #expect(basic.status == .created)
            let missing = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: body(["integration": "twilio", "type": "basic"])
            )
            #expect(missing.status == .badRequest && Set(missing.errorFields) == ["username", "password"])
        }
    }

    @Test func everyBadInputGetsAClearError() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            func post(_ text: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(text))
            }
            let malformed = try await post("{\"integration\": ")
            #expect(malformed.status == .badRequest && malformed.errorCode == "invalid_request")
            #expect(try await post("[1,2]").status == .badRequest)
            #expect(try await post("").status == .badRequest)

            let unknown = try await post(#"{"integration":"github","type":"oauth2","accessToken":"x","colour":"blue"}"#)
            #expect(unknown.status == .badRequest && unknown.errorFields == ["colour"])

            let wrongType = try await post(#"{"integration":"github","type":"oauth2","accessToken":5}"#)
            #expect(wrongType.status == .badRequest && wrongType.errorFields == ["accessToken"])

            let missing = try await post(#"{"type":"oauth2","accessToken":"x"}"#)
            #expect(missing.status == .badRequest && missing.errorFields == ["integration"])

            let badValues = try await post(#"{"integration":"git hub!","type":"token","scopes":[""]}"#)
            #expect(badValues.status == .badRequest && Set(badValues.errorFields) == ["integration", "type", "scopes"])

            let badDate = try await post(#"{"integration":"github","type":"oauth2","accessToken":"x","expiresAt":"tomorrow"}"#)
            #expect(badDate.status == .badRequest && badDate.errorFields == ["expiresAt"])

            let huge = try await post(#"{"integration":"github","type":"oauth2","accessToken":""# + String(repeating: "a", count: 1_100_000) + "\"}")
            #expect(huge.status == .contentTooLarge && huge.errorCode == "payload_too_large")

            let badID = try await client.execute(uri: "/api/v1/credentials/not-an-id", method: .get, headers: fixture.headers)
            #expect(badID.status == .badRequest && badID.errorFields == ["id"])
            let unknownID = try await client.execute(uri: "/api/v1/credentials/\(UUID().uuidString)", method: .post, headers: fixture.headers)
            #expect(unknownID.status == .methodNotAllowed && unknownID.headers[.allow] == "DELETE, GET, PATCH, OPTIONS")
            let unknownReveal = try await client.execute(
                uri: "/api/v1/credentials/\(UUID().uuidString)/reveal",
                method: .post,
                headers: fixture.headers
            )
            #expect(unknownReveal.status == .notFound && unknownReveal.errorCode == "not_found")

            #expect(try await client.execute(uri: "/api/v1/credentials?limit=0", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/credentials?status=sleepy", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/credentials?cursor=%25%25", method: .get, headers: fixture.headers).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/audit/export?format=xml", method: .get, headers: fixture.headers).status == .badRequest)

            let noRoute = try await client.execute(uri: "/api/v1/nothing", method: .get, headers: fixture.headers)
            #expect(noRoute.status == .notFound && noRoute.errorCode == "not_found")

            // No 500 anywhere above, and nothing half-written.
            let list = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers)
            #expect(try (list.json["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func adminRoutesNeedAnAdminKey() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let none = try await client.execute(uri: "/api/v1/credentials", method: .get)
            #expect(none.status == .unauthorized && none.errorCode == "unauthorized")
            #expect(none.headers[.contentType]?.hasPrefix("application/json") == true)
            let basic = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Basic YTpi"])
            #expect(basic.status == .unauthorized)
            let wrong = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Bearer lk_live_nope"])
            #expect(wrong.status == .unauthorized)
            let (_, appKey) = try await AppsAPITests.createApp(client, fixture)
            let app = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Bearer \(appKey)"])
            #expect(app.status == .forbidden && app.errorCode == "forbidden")
            let unknownApp = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: [.authorization: "Bearer lk_app_something"])
            #expect(unknownApp.status == .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/credentials", method: .get, headers: fixture.headers).status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anotherTenantsAdminCannotReachTheCredential(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(Self.github))
            let id = try #require(try created.json["id"] as? String)
            let other = try await fixture.runtime.tenants.createTenant(slug: "acme", name: "Acme", actor: .cli)
            let (_, otherKey) = try await fixture.runtime.tenants.createAdminKey(tenantID: other.id, name: "acme", actor: .cli)
            let headers: HTTPFields = [.authorization: "Bearer \(otherKey)"]
            for (uri, method) in [
                ("/api/v1/credentials/\(id)", HTTPRequest.Method.get), ("/api/v1/credentials/\(id)/reveal", .post),
                ("/api/v1/credentials/\(id)", .delete),
            ] {
                let response = try await client.execute(uri: uri, method: method, headers: headers)
                #expect(response.status == .notFound && !response.text.contains("gho_token_1"))
            }
            let list = try await client.execute(uri: "/api/v1/credentials", method: .get, headers: headers)
            #expect(try (list.json["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: fixture.headers).status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aTamperedCiphertextAnswersWithoutSecretsOrInternals(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let created = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: fixture.headers, body: body(Self.github))
            let id = try #require(try created.json["id"] as? String)
            try await fixture.runtime.database.corruptPayload(ofCredential: id)
            let revealed = try await client.execute(uri: "/api/v1/credentials/\(id)/reveal", method: .post, headers: fixture.headers)
            #expect(revealed.status == .internalServerError && revealed.errorCode == "decryption_failed")
            #expect(!revealed.text.contains("gho_token") && !revealed.text.contains("CiphertextError") && !revealed.text.contains("AES"))
            let audit = try await client.execute(uri: "/api/v1/audit?action=credential.reveal", method: .get, headers: fixture.headers)
            let events = try #require(try audit.json["items"] as? [[String: Any]])
            #expect(events.first?["result"] as? String == "failure")
        }
    }
}
