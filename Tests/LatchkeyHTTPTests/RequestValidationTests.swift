import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyHTTPTesting
import LatchkeyTesting
import Testing

/// Inputs the OpenAPI document rules out are refused with a 400 naming the field, never quietly ignored.
@Suite("Request validation")
struct RequestValidationTests {
    @Test(arguments: [
        ("/api/v1/audit/export?format=", "format", "must be one of jsonl, csv"),
        ("/api/v1/audit/export?format=xml", "format", "must be one of jsonl, csv"),
        ("/api/v1/providers?authMode=", "authMode", "must be one of oauth2, oauth2_client_credentials, api_key, basic"),
        ("/api/v1/providers?authMode=saml", "authMode", "must be one of oauth2, oauth2_client_credentials, api_key, basic"),
        ("/api/v1/credentials?status=", "status", "must be one of active, expired, revoked, needs_reauth"),
        ("/api/v1/credentials?connectionId=", "connectionId", "is not a valid connection id"),
        ("/api/v1/credentials?connectionId=not-a-uuid", "connectionId", "is not a valid connection id"),
        ("/api/v1/webhooks/deliveries?status=", "status", "must be one of pending, delivered, failed, dead"),
        ("/api/v1/audit?cursor=%2B5", "cursor", "is not a cursor returned by this list"),
        ("/api/v1/webhooks/deliveries?limit=", "limit", "must be a whole number from 1 to 200"),
        ("/api/v1/credentials?limit=0", "limit", "must be a whole number from 1 to 200"),
        ("/api/v1/audit?cursor=1000000000000000000", "cursor", "is not a cursor returned by this list"),
    ])
    func aQueryParameterOutsideItsValuesIsRefused(uri: String, field: String, message: String) async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let response = try await client.execute(uri: uri, method: .get, headers: fixture.headers)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
            let error = try #require(try response.json["error"] as? [String: Any])
            #expect(error["message"] as? String == "The request is not valid: \(field) \(message).")
        }
    }

    @Test func aValidConnectionIdFilterStillLists() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let upper = UUID().uuidString
            let response = try await client.execute(uri: "/api/v1/credentials?connectionId=\(upper)", method: .get, headers: fixture.headers)
            #expect(response.status == .ok)
            #expect((try response.json["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aDateTimeMustBeRealAndInTheDocumentedShape() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            for expiresAt in ["2030-01-01T23:59:60Z", "2030-01-01T10:00:00-23:41", "2030-11-31T00:00:00Z", "2030-02-29T00:00:00Z"] {
                let created = try await client.execute(
                    uri: "/api/v1/credentials",
                    method: .post,
                    headers: fixture.headers,
                    body: try body(["integration": "github", "type": "api_key", "apiKey": "k", "expiresAt": expiresAt])
                )
                #expect(created.status == .badRequest)
                #expect(created.errorFields == ["expiresAt"])
            }
            let fine = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "type": "api_key", "apiKey": "k", "expiresAt": "2028-02-29T10:00:00.250+18:00"])
            )
            #expect(fine.status == .created)
        }
    }

    @Test func nullForAFieldThatTakesNoNullIsRefused() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let created = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body(["integration": "github", "type": "basic", "username": "u", "password": "p"])
            )
            #expect(created.status == .created)
            let id = try #require(try created.json["id"] as? String)
            let patched = try await client.execute(
                uri: "/api/v1/credentials/\(id)",
                method: .patch,
                headers: fixture.headers,
                body: try body(["label": "work", "password": NSNull()])
            )
            #expect(patched.status == .badRequest)
            #expect(patched.errorFields == ["password"])
            let error = try #require(try patched.json["error"] as? [String: Any])
            #expect(
                error["message"] as? String
                    == "The body has null for fields that take no null: password. Leave a field out instead of sending null."
            )
            // Nothing was changed by the refused request.
            let shown = try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: fixture.headers)
            #expect(try shown.json["label"] as? String != "work")

            let integration = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "openai", "displayName": NSNull()])
            )
            #expect(integration.status == .badRequest)
            #expect(integration.errorFields == ["displayName"])
        }
    }

    @Test func nullStillClearsTheFieldsWhereItMeansClear() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let created = try await client.execute(
                uri: "/api/v1/integrations",
                method: .post,
                headers: fixture.headers,
                body: try body(["provider": "openai", "displayName": "Work OpenAI"])
            )
            #expect(created.status == .created)
            let settingsNull = try await client.execute(
                uri: "/api/v1/integrations/openai",
                method: .patch,
                headers: fixture.headers,
                body: try body(["settings": NSNull()])
            )
            #expect(settingsNull.status == .badRequest)
            #expect(settingsNull.errorFields == ["settings"])
            let cleared = try await client.execute(
                uri: "/api/v1/integrations/openai",
                method: .patch,
                headers: fixture.headers,
                body: try body(["displayName": NSNull()])
            )
            #expect(cleared.status == .ok)
            #expect(try cleared.json["displayName"] as? String == "OpenAI")
        }
    }
}
