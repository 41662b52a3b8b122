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

/// The provider's callback through the real router: RFC 9207 `iss` and repeated parameters (RFC 6749 §3.1).
@Suite("Connect callback parameters")
struct CallbackParametersFlowTests {
    /// A generic OpenID Connect integration at id.example; `sendsIss` is what its discovery document said.
    static func oidcSettings(sendsIss: Bool) -> [String: String] {
        var settings = [
            "issuer": "https://id.example", "authorizationURL": "https://id.example/authorize", "tokenURL": "https://id.example/token",
            "userInfoURL": "https://id.example/userinfo", "discoveryURL": "https://id.example/.well-known/openid-configuration",
        ]
        if sendsIss { settings["issParameterSupported"] = "true" }
        return settings
    }

    static func get(_ world: ConnectFlowTests.World, _ callback: URL, appending extra: String = "") async throws -> WebBrowser.Page {
        try await world.browser.get(WebBrowser.pathAndQuery(callback) + extra)
    }

    @Test func aMissingIssIsRefusedWhenTheProviderSaysItSendsOne() async throws {
        try await ConnectFlowTests.withWorld(provider: "oidc", issuer: nil, settings: Self.oidcSettings(sendsIss: true)) { world in
            let callback = try await world.fake.authorize(url: try await ConnectFlowTests.start(world, key: "oidc"))
            #expect(queryOf(callback)["iss"] == nil)
            let page = try await Self.get(world, callback)
            #expect(page.status == .badRequest)
            #expect(page.text.contains("did not say which sign-in server sent it"))
            #expect(await world.fake.exchangeCount == 0)
            #expect(try await ConnectFlowTests.credentials(world).isEmpty)
            #expect(world.fixture.logs.text.contains("callback refused: iss"))
            // The state was used up: the same answer with the right iss added is refused too.
            let again = try await Self.get(world, callback, appending: "&iss=https%3A%2F%2Fid.example")
            #expect(again.status == .badRequest && again.text.contains("already used"))
            #expect(await world.fake.exchangeCount == 0)
        }
    }

    @Test func issPresentAndEqualIsAccepted() async throws {
        try await ConnectFlowTests.withWorld(provider: "oidc", issuer: "https://id.example", settings: Self.oidcSettings(sendsIss: true)) { world in
            let callback = try await world.fake.authorize(url: try await ConnectFlowTests.start(world, key: "oidc"))
            #expect(queryOf(callback)["iss"] == "https://id.example")
            let page = try await Self.get(world, callback)
            #expect(page.status == .seeOther)
            #expect(try await ConnectFlowTests.credentials(world).count == 1)
        }
    }

    @Test func aProviderThatDoesNotSendIssIsAcceptedWithoutIt() async throws {
        try await ConnectFlowTests.withWorld(provider: "oidc", issuer: nil, settings: Self.oidcSettings(sendsIss: false)) { world in
            let callback = try await world.fake.authorize(url: try await ConnectFlowTests.start(world, key: "oidc"))
            #expect(try await Self.get(world, callback).status == .seeOther)
            #expect(try await ConnectFlowTests.credentials(world).count == 1)
        }
    }

    /// A second `iss` (the first one right) used to pass, first-wins; a second `code` likewise. Both are refused as a
    /// malformed answer, nothing is exchanged or stored, and the state is used up.
    @Test(arguments: [
        ("oidc", "&iss=https%3A%2F%2Fevil.example", "iss"), ("oidc", "&code=injected-code", "code"), ("github", "&code=injected-code", "code"),
        ("github", "&state=other-state", "state"), ("github", "&error=access_denied", "error"),
    ])
    func repeatedParametersAreRefused(provider: String, extra: String, name: String) async throws {
        let oidc = provider == "oidc"
        try await ConnectFlowTests.withWorld(
            provider: provider,
            issuer: oidc ? "https://id.example" : nil,
            settings: oidc ? Self.oidcSettings(sendsIss: true) : [:]
        ) { world in
            let callback = try await world.fake.authorize(url: try await ConnectFlowTests.start(world, key: provider))
            // `error` once is a denial, not a repeat: give it twice.
            let page = try await Self.get(world, callback, appending: name == "error" ? extra + extra : extra)
            #expect(page.status == .badRequest)
            #expect(page.text.contains("The provider&#39;s answer was malformed") || page.text.contains("The provider's answer was malformed"))
            #expect(page.text.contains("the parameter \(name) appears more than once"))
            #expect(await world.fake.exchangeCount == 0)
            #expect(try await ConnectFlowTests.credentials(world).isEmpty)
            if name != "state" {
                let clean = try await Self.get(world, callback)
                #expect(clean.status == .badRequest && clean.text.contains("already used"), "\(name)")
                #expect(await world.fake.exchangeCount == 0)
            }
        }
    }

    /// An error response claiming to come from another issuer is refused as such, not shown as the provider's denial.
    @Test func anErrorResponseFromAnotherIssuerIsRefused() async throws {
        try await ConnectFlowTests.withWorld(provider: "oidc", issuer: "https://id.example", settings: Self.oidcSettings(sendsIss: true)) { world in
            let authorize = try await ConnectFlowTests.start(world, key: "oidc")
            let state = try #require(queryOf(authorize)["state"])
            let forged = "/connect/callback?error=access_denied&state=\(state)&iss=https%3A%2F%2Fevil.example"
            let page = try await world.browser.get(forged)
            #expect(page.status == .badRequest)
            #expect(page.text.contains("different sign-in server"))
            #expect(!page.text.contains("You did not allow access"))
        }
    }
}
