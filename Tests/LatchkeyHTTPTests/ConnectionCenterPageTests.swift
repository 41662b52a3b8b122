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

/// What the Connection Center's tiles say about each service.
@Suite("Connection Center page")
struct ConnectionCenterPageTests {
    @Test func tilesNameTheServiceAsTheAdministratorNamedIt() async throws {
        try await FormActionPolicyTests.withSignedIn { browser, fixture, _ in
            try await FormActionPolicyTests.enable(
                fixture,
                key: "corp",
                provider: "oauth2",
                settings: ["authorizationURL": "https://login.corp.example/authorize", "tokenURL": "https://login.corp.example/token"],
                displayName: "Corp SSO"
            )
            try await FormActionPolicyTests.enable(fixture, key: "openai", provider: "openai", displayName: "Team OpenAI")
            let center = try await browser.get("/connections")
            #expect(center.text.contains("Sign in at Corp SSO and choose what to allow."))
            #expect(center.text.contains("Connect with your Team OpenAI API key."))
            #expect(!center.text.contains("Generic OAuth 2.0"))
        }
    }
}
