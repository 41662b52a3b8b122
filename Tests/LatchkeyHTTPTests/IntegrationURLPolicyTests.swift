import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// Integration endpoint settings pass the same address classifier as webhooks, and discovery goes through the
/// outbound policy before any connection.
@Suite("Integration URL policy")
struct IntegrationURLPolicyTests {
    static func post(_ client: any TestClientProtocol, _ fixture: TestFixture, _ object: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/integrations", method: .post, headers: fixture.headers, body: try body(object))
    }

    static func fieldMessages(_ response: TestResponse) -> [String: String] {
        let error = (try? response.json)?["error"] as? [String: Any]
        var out: [String: String] = [:]
        for field in (error?["fields"] as? [[String: Any]]) ?? [] {
            if let path = field["path"] as? String { out[path] = field["message"] as? String }
        }
        return out
    }

    @Test func privateAndMalformedEndpointSettingsAreRefusedFieldByField() async throws {
        try await TestApp.with(.sqlite) { client, fixture in
            let cases: [(url: String, says: String)] = [
                ("https://0x7f000001/token", "0x7f000001 is refused because it is a loopback address (this machine)"),
                ("https://[64:ff9b::a9fe:a9fe]/token", "it is a NAT64 address carrying 169.254.169.254, a link-local address"),
                ("https://198.18.0.1/token", "it is a benchmarking address (198.18.0.0/15)"),
                ("https://localhost.localdomain/token", "it names this machine"),
                ("https://id.example/to\r\nken", "must not contain control characters"),
                ("https://id.example/to ken", "must not contain control characters"),
            ]
            for (url, says) in cases {
                let answer = try await Self.post(
                    client,
                    fixture,
                    ["provider": "oauth2", "clientId": "x", "settings": ["authorizationURL": "https://id.example/a", "tokenURL": url]]
                )
                #expect(answer.status == .badRequest, "\(url.debugDescription)")
                #expect(answer.errorFields == ["settings.tokenURL"], "\(url.debugDescription)")
                #expect(Self.fieldMessages(answer)["settings.tokenURL"]?.contains(says) == true, "\(url.debugDescription)")
            }
            let discovery = try await Self.post(
                client,
                fixture,
                ["provider": "oidc", "clientId": "c", "settings": ["discoveryURL": "https://[::ffff:10.0.0.5]/.well-known/openid-configuration"]]
            )
            #expect(discovery.errorFields == ["settings.discoveryURL"])
            #expect(Self.fieldMessages(discovery)["settings.discoveryURL"]?.contains("carrying 10.0.0.5, a private address") == true)
            #expect(try await fixture.runtime.integrations.integrations.list(tenantID: fixture.tenantID).isEmpty)
        }
    }

    /// A discovery URL whose name resolves to a private address: refused by the policy before any request, told as
    /// the policy's refusal (not as a provider fault), with a warning naming the host and the reason.
    @Test func discoveryOfAPrivateAddressIsAPolicyRefusal() async throws {
        let network = FakeNetwork()
        let resolver = NameResolver.fixed(["sso.corp.example": [try #require(AddressClassifier.literal("169.254.169.254"))]])
        let policy = OutboundPolicy(allowPrivateNetwork: false, resolver: resolver)
        try await TestApp.with(.sqlite, transport: network, outboundPolicy: policy) { client, fixture in
            let answer = try await Self.post(
                client,
                fixture,
                ["provider": "oidc", "clientId": "c", "settings": ["discoveryURL": "https://sso.corp.example/.well-known/openid-configuration"]]
            )
            #expect(answer.status == .badRequest)
            #expect(answer.errorFields == ["settings.discoveryURL"])
            #expect(
                Self.fieldMessages(answer)["settings.discoveryURL"]
                    == "Latchkey did not call sso.corp.example: it resolves to 169.254.169.254, a link-local address. Start the server with "
                    + "--allow-private-network to allow calls to this machine's network."
            )
            #expect(!answer.text.contains("sent an answer Latchkey cannot use"))
            #expect(await network.requests.isEmpty)
            let logs = fixture.logs.text
            #expect(logs.contains("outbound call refused by the policy") && logs.contains("sso.corp.example"))
            #expect(logs.contains("it resolves to 169.254.169.254, a link-local address"))
            #expect(!logs.contains("openid-configuration"))
        }
    }

    /// A public discovery document that names a token endpoint on this machine's network is refused at once.
    @Test func discoveredEndpointsPassTheSameChecks() async throws {
        let discovery = DiscoveryDocumentNaming(tokenEndpoint: "https://[::ffff:169.254.169.254]/token")
        try await TestApp.with(.sqlite, transport: discovery) { client, fixture in
            let answer = try await Self.post(
                client,
                fixture,
                ["provider": "oidc", "clientId": "c", "settings": ["discoveryURL": "https://id.example/.well-known/openid-configuration"]]
            )
            #expect(answer.status == .badRequest)
            #expect(answer.errorFields == ["settings.discoveryURL"])
            let message = Self.fieldMessages(answer)["settings.discoveryURL"] ?? ""
            #expect(message.contains("names a tokenURL that cannot be used"))
            #expect(message.contains("carrying 169.254.169.254, a link-local address"))
        }
    }
}

/// Serves one discovery document for id.example whose token endpoint is `tokenEndpoint`.
struct DiscoveryDocumentNaming: HTTPTransport {
    let tokenEndpoint: String

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        let document = """
            {"issuer": "https://id.example", "authorization_endpoint": "https://id.example/authorize", "token_endpoint": "\(tokenEndpoint)"}
            """
        return OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "application/json")], body: Data(document.utf8))
    }
}
