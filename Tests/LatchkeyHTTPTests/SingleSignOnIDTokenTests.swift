import Foundation
import HTTPTypes
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The id_token checks of single sign-on through the whole flow (the browser's way through the router, the provider's
/// token endpoint and key set): a token for another client, an expired one, an earlier sign-in's token replayed, and
/// the provider rolling its key — the new key signs in, the retired one no longer does.
@Suite("Single sign-on id_tokens")
struct SingleSignOnIDTokenTests {
    /// Signs in with `corp` in a new browser; the page the callback answers with.
    static func attempt(_ world: SingleSignOnWorld) async throws -> WebBrowser.Page {
        let browser = WebBrowser(world.client)
        return try await browser.get(try await world.providerAnswer(browser))
    }

    static func refused(_ page: WebBrowser.Page, saying words: String) {
        #expect(page.status == .badRequest, "\(page.text)")
        #expect(page.text.contains(words), "\(page.text)")
    }

    @Test(arguments: TestDatabases.kinds)
    func aTokenForAnotherClientExpiredReplayedOrSignedWithARetiredKeySignsNobodyIn(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await SingleSignOnWorld.with(kind, clock: clock) { world in
            try await world.enable("corp", createUsers: true)
            let users = { try await world.fixture.runtime.tenants.users.list(tenantID: world.fixture.tenantID) }

            // Issued to another client of the provider.
            await world.oidc.setExtraClaims(["email_verified": true, "aud": "someone-else"])
            Self.refused(try await Self.attempt(world), saying: "The answer from Corp ID did not match this sign-in")
            // Expired two minutes ago (a minute of clock skew is allowed).
            let now = Int(clock.now.timeIntervalSince1970)
            await world.oidc.setExtraClaims(["email_verified": true, "iat": now - 900, "exp": now - 120])
            Self.refused(try await Self.attempt(world), saying: "has expired")
            #expect(try await users().isEmpty)

            // A genuine sign-in; its token replayed into the next one carries the first sign-in's nonce.
            await world.oidc.setExtraClaims(["email_verified": true])
            #expect(try await Self.attempt(world).status == .seeOther)
            let first = try #require(await world.oidc.lastIDToken)
            await world.oidc.setReplayedIDToken(first)
            Self.refused(try await Self.attempt(world), saying: "The answer from Corp ID did not match this sign-in")
            await world.oidc.setReplayedIDToken(nil)

            // The provider rolls its key. A token with the new kid makes Latchkey read the key set again (at most once
            // a minute) and signs in; one signed with the retired key is refused.
            await world.oidc.rotate()
            clock.advance(by: 61)
            #expect(try await Self.attempt(world).status == .seeOther)
            await world.oidc.setSignWithRetiredKey(true)
            Self.refused(try await Self.attempt(world), saying: "signed with a key the provider does not publish")

            #expect(try await users().count == 1)
            let refusals = try await world.fixture.auditEvents().filter { $0.action == "user.sign_in" && $0.result == "failure" }
            #expect(refusals.count == 4 && refusals.allSatisfy { $0.details["reason"] == "id_token" })
        }
    }
}
