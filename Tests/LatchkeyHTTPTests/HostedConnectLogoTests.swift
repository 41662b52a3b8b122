import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyHTTPTesting
import LatchkeyTesting
import Testing

/// The app's logo on the hosted connect pages: shown, and allowed by their Content-Security-Policy from exactly its
/// https origin, on those pages only.
@Suite("Hosted connect page: the app's logo")
struct HostedConnectLogoTests {
    @Test func theLogoIsShownAndOnlyItsOriginMayServeImages() async throws {
        try await HostedConnectPageTests.withWorld { world in
            let logo = "https://cdn.derek.example:8443/brand/logo.png?v=2"
            let patched = try await world.client.execute(
                uri: "/api/v1/apps/\(world.app.id)",
                method: .patch,
                headers: world.fixture.headers,
                body: try body(["branding": ["displayName": "Derek", "logoUrl": logo]])
            )
            #expect(patched.status == .ok)
            let (_, path) = try await HostedConnectPageTests.session(world, redirect: nil)
            let browser = WebBrowser(world.client)
            let page = try await browser.get(path)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<img class="logo" src="https://cdn.derek.example:8443/brand/logo.png?v=2""#))
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("; img-src https://cdn.derek.example:8443; "))
            #expect(policy.hasPrefix("default-src 'none'"))
            // The finished page shows it too.
            let started = try await browser.post(path, csrf: false)
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            let done = try await browser.get(WebBrowser.pathAndQuery(callback))
            #expect(done.text.contains(#"<img class="logo""#))
            #expect(done.headers[.contentSecurityPolicy]?.contains("img-src https://cdn.derek.example:8443;") == true)
            // Other pages load no image at all.
            let other = try await browser.get("/connect/lk_cs_" + String(repeating: "A", count: 43))
            #expect(!(other.headers[.contentSecurityPolicy] ?? "").contains("img-src"))
            #expect(!other.text.contains("<img"))
        }
    }

    @Test func withoutALogoThePageAllowsNoImage() async throws {
        try await HostedConnectPageTests.withWorld { world in
            let (_, path) = try await HostedConnectPageTests.session(world)
            let page = try await WebBrowser(world.client).get(path)
            #expect(page.status == .ok)
            #expect(!(page.headers[.contentSecurityPolicy] ?? "").contains("img-src"))
            #expect(!page.text.contains("<img") && page.text.contains(#"<span class="badge">D</span>"#))
        }
    }
}
