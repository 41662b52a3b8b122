import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Scopes an integration asks for must be ones its provider knows, so nobody is later asked to grant nonsense.
@Suite("Integration scopes")
struct IntegrationScopeTests {
    @Test(arguments: TestDatabases.kinds)
    func unknownScopesAreRefusedOnCreateAndChangeUnlessTheListIsOpen(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            func send(_ method: HTTPRequest.Method, _ path: String, _ object: [String: Any]) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/integrations\(path)", method: method, headers: fixture.headers, body: try body(object))
            }
            let refused = try await send(.post, "", ["provider": "github", "clientId": "x", "scopes": ["repo", "nonsense", "admin:everything"]])
            #expect(refused.status == .badRequest && refused.errorFields == ["scopes[1]", "scopes[2]"])
            #expect(refused.text.contains("\\\"nonsense\\\" is not a GitHub scope Latchkey knows") && refused.text.contains("read:user"))
            #expect(try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).isEmpty)

            #expect(try await send(.post, "", ["provider": "github", "clientId": "x", "scopes": ["repo", "read:user"]]).status == .created)
            let patched = try await send(.patch, "/github", ["scopes": ["repo", "nonsense"]])
            #expect(patched.status == .badRequest && patched.errorFields == ["scopes[1]"])
            #expect(try await send(.patch, "/github", ["scopes": ["gist"]]).status == .ok)

            // Generic providers and open lists take any well-formed scope.
            let generic = try await send(
                .post,
                "",
                [
                    "provider": "oauth2", "key": "corp", "clientId": "x", "scopes": ["corp.custom:read"],
                    "settings": ["authorizationURL": "https://id.example/a", "tokenURL": "https://id.example/t"],
                ]
            )
            #expect(generic.status == .created)
            let google = try await send(.post, "", ["provider": "google", "clientId": "x", "scopes": ["https://www.googleapis.com/auth/tasks"]])
            #expect(google.status == .created)
        }
    }
}
