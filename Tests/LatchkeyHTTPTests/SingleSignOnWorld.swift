import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// An OpenID Connect provider for single sign-on tests: the fake provider's authorize and token endpoints, with its
/// id_tokens signed (ES256) by a key made in the test, a discovery document and the key set.
actor SigningIdentityProvider: HTTPTransport {
    static let issuer = "https://id.example.test"
    let fake: FakeProvider
    private(set) var key = P256.Signing.PrivateKey()
    private(set) var keyID = "k1"
    /// Signs with a key the provider does not publish (a forged token).
    var forge = false
    /// Claims added to (or replacing those of) every id_token.
    var extraClaims: [String: Any] = ["email_verified": true]
    /// The key `rotate()` retired, no longer published.
    private var retired: (key: P256.Signing.PrivateKey, id: String)?
    /// Signs with the retired key under its old `kid` (a token minted before a rotation, or with a stolen old key).
    var signWithRetiredKey = false
    /// Answers with this id_token instead of a fresh one (an earlier sign-in's token, replayed).
    var replayedIDToken: String?
    /// The last id_token the token endpoint answered with.
    private(set) var lastIDToken: String?

    init(fake: FakeProvider) {
        self.fake = fake
    }

    func setForge(_ value: Bool) { forge = value }
    func setExtraClaims(_ claims: [String: Any]) { extraClaims = claims }
    func setSignWithRetiredKey(_ value: Bool) { signWithRetiredKey = value }
    func setReplayedIDToken(_ token: String?) { replayedIDToken = token }

    /// The provider rolls its signing key: a new key and `kid` are published, the old one is not.
    func rotate() {
        retired = (key, keyID)
        key = P256.Signing.PrivateKey()
        keyID = "k\(Int(keyID.dropFirst())! + 1)"
    }

    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        switch request.url.path {
        case "/.well-known/openid-configuration":
            return Self.json([
                "issuer": Self.issuer, "authorization_endpoint": Self.issuer + "/authorize", "token_endpoint": Self.issuer + "/token",
                "userinfo_endpoint": Self.issuer + "/userinfo", "jwks_uri": Self.issuer + "/jwks",
            ])
        case "/jwks":
            let raw = key.publicKey.rawRepresentation
            return Self.json([
                "keys": [
                    [
                        "kty": "EC", "crv": "P-256", "kid": keyID, "use": "sig", "x": raw.prefix(32).base64URLEncodedString(),
                        "y": raw.suffix(32).base64URLEncodedString(),
                    ]
                ]
            ])
        default:
            var response = try await fake.send(request)
            guard request.url.path == "/token", var object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                let idToken = object["id_token"] as? String
            else { return response }
            let answered = try replayedIDToken ?? resign(idToken)
            lastIDToken = answered
            object["id_token"] = answered
            response.body = try JSONSerialization.data(withJSONObject: object)
            return response
        }
    }

    /// The fake's unsigned id_token, signed with the published key (or another one when forging).
    private func resign(_ idToken: String) throws -> String {
        let parts = idToken.split(separator: ".").map(String.init)
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        var claims = try JSONSerialization.jsonObject(with: Data(base64Encoded: base64)!) as! [String: Any]
        for (name, value) in extraClaims { claims[name] = value }
        let old = signWithRetiredKey ? retired : nil
        let header = try JSONSerialization.data(withJSONObject: ["alg": "ES256", "kid": old?.id ?? keyID, "typ": "JWT"]).base64URLEncodedString()
        let payload = try JSONSerialization.data(withJSONObject: claims).base64URLEncodedString()
        let signer = forge ? P256.Signing.PrivateKey() : old?.key ?? key
        let signature = try signer.signature(for: Data("\(header).\(payload)".utf8)).rawRepresentation
        return "\(header).\(payload).\(signature.base64URLEncodedString())"
    }

    static func json(_ object: Any) -> OutboundResponse {
        OutboundResponse(
            status: 200,
            headers: [(name: "Content-Type", value: "application/json")],
            body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        )
    }
}

/// An app with an `oidc` integration `corp` at ``SigningIdentityProvider`` and a social `oauth2` integration `hub` (a
/// provider whose user-info names the person).
struct SingleSignOnWorld: Sendable {
    let fixture: TestFixture
    let client: any TestClientProtocol
    let oidc: SigningIdentityProvider
    let social: FakeProvider

    static let catalog = try! ProviderCatalog.bundled()

    static func with<T: Sendable>(
        _ kind: TestDatabases.Kind = .sqlite,
        clock: TestClock = TestClock(),
        _ body: @Sendable (SingleSignOnWorld) async throws -> T
    ) async throws -> T {
        let settings = [
            "issuer": SigningIdentityProvider.issuer, "authorizationURL": SigningIdentityProvider.issuer + "/authorize",
            "tokenURL": SigningIdentityProvider.issuer + "/token", "userInfoURL": SigningIdentityProvider.issuer + "/userinfo",
            "discoveryURL": SigningIdentityProvider.issuer + "/.well-known/openid-configuration",
        ]
        let oidcProvider = try #require(catalog.provider(id: "oidc"))
        let fake = try FakeProvider(
            provider: oidcProvider,
            endpoints: try EndpointResolver.resolve(provider: oidcProvider, settings: settings, templateValues: [:]),
            issuer: SigningIdentityProvider.issuer,
            clock: clock
        )
        let oidc = SigningIdentityProvider(fake: fake)
        let socialSettings = [
            "authorizationURL": "https://hub.example.test/login/oauth/authorize", "tokenURL": "https://hub.example.test/login/oauth/token",
            "userInfoURL": "https://hub.example.test/user",
        ]
        let socialProvider = try #require(catalog.provider(id: "oauth2"))
        let social = try FakeProvider(
            provider: socialProvider,
            endpoints: try EndpointResolver.resolve(provider: socialProvider, settings: socialSettings, templateValues: [:]),
            clock: clock
        )
        let network = FakeNetwork([social])
        await network.route(host: "id.example.test", to: oidc)
        return try await TestApp.with(kind, clock: clock, transport: network) { client, fixture in
            for (key, provider, values) in [("corp", "oidc", settings), ("hub", "oauth2", socialSettings)] {
                _ = try await fixture.runtime.integrations.create(
                    .init(
                        key: key,
                        provider: provider,
                        displayName: key == "corp" ? "Corp ID" : "Hub",
                        clientID: "fake-client-id",
                        clientSecret: "fake-client-secret",
                        settings: values
                    ),
                    tenantID: fixture.tenantID,
                    actor: .cli
                )
            }
            return try await body(SingleSignOnWorld(fixture: fixture, client: client, oidc: oidc, social: social))
        }
    }

    /// Turns sign-in on for `key` through the admin API.
    func enable(_ key: String, createUsers: Bool = false, domains: [String] = []) async throws {
        let response = try await client.execute(
            uri: "/api/v1/sign-in/providers/\(key)",
            method: .put,
            headers: fixture.headers,
            body: try LatchkeyHTTPTests.body(["enabled": true, "createUsers": createUsers, "allowedDomains": domains])
        )
        #expect(response.status == .ok, "\(response.text)")
    }

    /// Starts signing in with `key` in `browser` and plays the provider: returns the callback path the provider sends
    /// the browser back to.
    func providerAnswer(
        _ browser: WebBrowser,
        key: String = "corp",
        start: String? = nil,
        approve: Bool = true,
        accountID: String = "sub-1",
        email: String? = "alice@example.com"
    ) async throws -> String {
        let started = try await browser.get(start ?? "/login/sso/\(key)?next=/connections")
        #expect(started.status == .seeOther, "\(started.text)")
        let authorize = try #require(started.location.flatMap(URL.init(string:)))
        let fake = key == "corp" ? oidc.fake : social
        let callback = try await fake.authorize(url: authorize, approve: approve, accountID: accountID, email: email)
        return WebBrowser.pathAndQuery(callback)
    }
}
