import Foundation
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import Testing

/// The secret goes on a proxied call the provider's way, and the call goes to the credential's own API host.
@Suite("Proxy credentials and base URLs")
struct ProxyCredentialsTests {
    static let catalog = try! ProviderCatalog.bundled()

    static func provider(_ id: String) throws -> Provider { try #require(catalog.provider(id: id)) }

    @Test func eachProviderGetsTheSecretInItsOwnHeaderWithItsFixedHeaders() throws {
        func headers(_ id: String, _ secret: CredentialResolver.Secret, caller: [(name: String, value: String)] = []) throws -> [String] {
            ProxyCredentials.headers(for: secret, provider: try Self.provider(id), callerHeaders: caller).map { "\($0.name): \($0.value)" }
        }
        #expect(try headers("github", .oauth(accessToken: "t1", tokenType: "Bearer")).first == "Authorization: Bearer t1")
        #expect(try headers("shopify", .oauth(accessToken: "t2", tokenType: "Bearer")) == ["X-Shopify-Access-Token: t2"])
        #expect(try headers("openai", .apiKey("sk-1")) == ["Authorization: Bearer sk-1"])
        #expect(try headers("anthropic", .apiKey("ak-1")) == ["x-api-key: ak-1", "anthropic-version: 2023-06-01"])
        // A version pin the caller sets is theirs; the catalog's is added only when they did not.
        #expect(try headers("anthropic", .apiKey("ak-1"), caller: [("Anthropic-Version", "2024-01-01")]) == ["x-api-key: ak-1"])
        #expect(
            try headers("twilio", .basic(username: "AC1", password: "pw")) == ["Authorization: Basic " + Data("AC1:pw".utf8).base64EncodedString()]
        )
    }

    @Test func theBaseURLIsFilledFromTheCredentialAndRefusesValuesThatWouldChangeTheHost() throws {
        let shopify = try Self.provider("shopify")
        #expect(
            try EndpointResolver.apiBaseURL(provider: shopify, settings: [:], templateValues: ["shop": "acme"]).absoluteString
                == "https://acme.myshopify.com/admin/api/2025-07"
        )
        for shop in ["evil.example/x", "a@evil.example", "evil.example#", "..", ""] {
            #expect(throws: OAuthClientError.self, "\(shop)") {
                try EndpointResolver.apiBaseURL(provider: shopify, settings: [:], templateValues: ["shop": shop])
            }
        }
        let salesforce = try Self.provider("salesforce")
        #expect(
            try EndpointResolver.apiBaseURL(provider: salesforce, settings: [:], templateValues: ["instance_url": "https://na1.my.salesforce.com"])
                .absoluteString == "https://na1.my.salesforce.com/services/data/v62.0"
        )
        for instance in ["https://user@evil.example/x", "https://93.184.215.14", "https://[2001:db8::1]", "http://na1.my.salesforce.com"] {
            #expect(throws: OAuthClientError.self, "\(instance)") {
                try EndpointResolver.apiBaseURL(provider: salesforce, settings: [:], templateValues: ["instance_url": instance])
            }
        }
        let generic = try Self.provider("oauth2")
        #expect(
            try EndpointResolver.apiBaseURL(provider: generic, settings: ["apiBaseURL": "https://api.acme.example/v1"], templateValues: [:])
                .absoluteString == "https://api.acme.example/v1"
        )
        #expect(throws: OAuthClientError.self) { try EndpointResolver.apiBaseURL(provider: generic, settings: [:], templateValues: [:]) }
    }
}
