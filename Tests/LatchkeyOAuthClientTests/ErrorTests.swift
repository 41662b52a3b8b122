import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import Testing

@Suite struct ErrorClassificationTests {
    @Test(arguments: [
        (OAuthClientError.transport(.unreachable(host: "h")), OAuthClientError.Classification.transient(retryAfter: nil)),
        (.transport(.timedOut(host: "h")), .transient(retryAfter: nil)),
        (.unexpectedStatus(503), .transient(retryAfter: nil)),
        (.unexpectedStatus(429, retryAfter: 60), .transient(retryAfter: 60)),
        (.providerError(code: "temporarily_unavailable", description: nil), .transient(retryAfter: nil)),
        (.providerError(code: "weird", description: nil, status: 500), .transient(retryAfter: nil)),
        (.invalidGrant, .reauthRequired(reason: "invalid_grant")),
        (.providerError(code: "invalid_refresh_token", description: nil), .reauthRequired(reason: "invalid_refresh_token")),
        (.providerError(code: "token_revoked", description: nil), .reauthRequired(reason: "token_revoked")),
        (.unexpectedStatus(400), .reauthRequired(reason: "the provider refused the request (HTTP 400)")),
        (.unexpectedStatus(401), .reauthRequired(reason: "the provider refused the request (HTTP 401)")),
        (.invalidClient, .clientMisconfigured),
        (.providerError(code: "unauthorized_client", description: nil), .clientMisconfigured),
        (.providerError(code: "bad_client_secret", description: nil), .clientMisconfigured),
        (.providerError(code: "incorrect_client_credentials", description: nil), .clientMisconfigured),
        (.missingSetting("tokenURL"), .clientMisconfigured),
        (.providerError(code: "invalid_scope", description: nil), .badResponse),
        (.noAccessToken, .badResponse),
        (.malformedResponse("x"), .badResponse),
        (.transport(.responseTooLarge(host: "h", limit: 1)), .badResponse),
        (.transport(.blockedAddress(host: "h", reason: "it is a private address")), .clientMisconfigured),
        (.transport(.unsupportedURL(reason: "plain http is only used for private hosts")), .clientMisconfigured),
        (.idTokenMismatch("nonce"), .badResponse),
        (.unexpectedStatus(302), .badResponse),
    ])
    func classification(error: OAuthClientError, expected: OAuthClientError.Classification) {
        #expect(error.classification == expected)
    }

    @Test func messagesNameTheProviderInPlainWords() {
        #expect(
            OAuthClientError.invalidGrant.message(providerName: "GitHub")
                == "GitHub no longer accepts this connection. Please connect your GitHub account again."
        )
        #expect(
            OAuthClientError.transport(.unreachable(host: "github.com")).message(providerName: "GitHub") == "Cannot reach GitHub. Please try again."
        )
        #expect(
            OAuthClientError.unexpectedStatus(429, retryAfter: 900).message(providerName: "GitHub")
                == "GitHub is busy right now. Try again in 15 minutes."
        )
        #expect(OAuthClientError.invalidClient.message(providerName: "Slack").contains("administrator"))
        #expect(!OAuthClientError.transport(.unreachable(host: "github.com")).message(providerName: "GitHub").contains("github.com"))
    }
}

/// No token, code, secret or verifier may appear in any description or message, whatever the provider sends back.
@Suite struct SecretCanaryTests {
    static let canary = "CANARY-7f3a9c"
    static let code = "code-\(canary)"
    static let secret = "secret-\(canary)"
    static let verifier = "verifier-\(canary)-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    static let refreshToken = "refresh-\(canary)"

    func check(_ error: OAuthClientError?, _ label: String) {
        guard let error else {
            Issue.record("\(label): the call succeeded, but every answer here should be refused")
            return
        }
        let texts = [
            String(describing: error), String(reflecting: error), error.message(providerName: "Acme"), "\(error.classification)",
            error.localizedDescription, "\(error.kind)",
        ]
        for text in texts {
            #expect(!text.contains(Self.canary), "\(label): \(text)")
        }
    }

    /// Provider answers that echo what Latchkey sent.
    var echoes: [StubTransport] {
        [
            .json(400, #"{"error":"invalid_grant","error_description":"code \#(Self.code) is invalid"}"#),
            .json(400, #"{"error":"invalid_request","error_description":"verifier \#(Self.verifier) and \#(Self.secret), \#(Self.refreshToken)"}"#),
            .json(400, #"{"error":"\#(Self.code)"}"#),
            .json(200, #"{"ok":false,"error":"bad \#(Self.secret)"}"#),
            .json(200, #"{"error":{"code":"\#(Self.refreshToken)"}}"#),
            .body(500, "<html>\(Self.code)</html>", contentType: "text/html"),
            .body(200, "token=\(Self.refreshToken)", contentType: "text/plain"),
            .json(200, #"{"access_token":"","refresh_token":"\#(Self.refreshToken)"}"#),
        ]
    }

    @Test func exchangeAndRefreshErrorsCarryNoSecret() async throws {
        for providerID in ["google", "slack", "github", "zoom"] {
            let provider = try Fixtures.provider(providerID)
            let endpoints = try Fixtures.endpoints(provider)
            let credentials = OAuthClientCredentials(
                clientID: "client",
                clientSecret: Self.secret,
                method: provider.oauth?.clientAuth ?? .clientSecretPost
            )
            for (index, transport) in echoes.enumerated() {
                let client = OAuthClient(transport: transport, clock: Fixtures.clock)
                let exchange = await oauthError { () throws(OAuthClientError) in
                    try await client.exchangeCode(
                        provider: provider,
                        endpoints: endpoints,
                        client: credentials,
                        code: Self.code,
                        redirectURI: "https://l.example/cb",
                        codeVerifier: Self.verifier
                    )
                }
                check(exchange, "\(providerID) exchange \(index)")
            }
            for (index, transport) in echoes.enumerated() {
                let client = OAuthClient(transport: transport, clock: Fixtures.clock)
                let refresh = await oauthError { () throws(OAuthClientError) in
                    try await client.refresh(
                        provider: provider,
                        endpoints: endpoints,
                        client: credentials,
                        refreshToken: Self.refreshToken,
                        scopes: nil
                    )
                }
                check(refresh, "\(providerID) refresh \(index)")
            }
        }
    }

    @Test func fakeProviderErrorsCarryNoSecret() async throws {
        let provider = try Fixtures.provider("github")
        let fake = try FakeProvider(provider: provider, clientID: "client", clientSecret: Self.secret)
        let client = OAuthClient(transport: fake, clock: Fixtures.clock)
        let endpoints = fake.endpoints
        let wrong = OAuthClientCredentials(clientID: "client", clientSecret: "wrong-\(Self.canary)", method: .clientSecretPost)
        let error = await oauthError { () throws(OAuthClientError) in
            try await client.exchangeCode(
                provider: provider,
                endpoints: endpoints,
                client: wrong,
                code: Self.code,
                redirectURI: "https://l.example/cb",
                codeVerifier: nil
            )
        }
        #expect(error?.classification == .clientMisconfigured)
        check(error, "fake")
        #expect(await fake.requests.allSatisfy { !$0.url.absoluteString.contains(Self.canary) })
    }
}
