public import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import Logging

/// Where the browser goes when a connect form is submitted: the origin of the provider's authorization endpoint, for
/// the policy of the pages that offer the form.
extension ConnectService {
    /// Where a connect sends the browser, as far as it is known before the person types anything.
    public enum RedirectOrigin: Sendable, Hashable {
        /// The origin of this URL (the authorization endpoint).
        case origin(of: URL)
        /// Any host that differs from this URL's host only in its leftmost label (`https://*.myshopify.com`).
        case anySubdomain(of: URL)
    }

    /// The origin a *Connect*, *Reconnect* or *Try again* form for `service` is redirected to, resolved exactly as
    /// the connect start resolves it (catalog entry, a generic `oauth2` integration's settings, or the endpoints an
    /// `oidc` integration read from its discovery document when it was created).
    ///
    /// When the authorization URL depends on what the person types first (a Shopify shop, a Zendesk subdomain) and
    /// only the leftmost label of its host does, the origin is any subdomain of the rest of that host.
    ///
    /// Nil for services that never redirect (API keys, basic credentials) and for origins that cannot be known
    /// (a whole-host template). Such a connect still works in every browser: the web layer continues through a page
    /// of its own when the redirect is not covered by the page's policy.
    public func redirectOrigin(for service: Service) -> RedirectOrigin? {
        guard service.provider.authMode == .oauth2, service.provider.oauth != nil else { return nil }
        if let endpoints = try? EndpointResolver.resolve(provider: service.provider, settings: service.integration.settings, templateValues: [:]) {
            return .origin(of: endpoints.authorizationURL)
        }
        guard let template = service.provider.oauth?.authorizationURL?.url, Self.onlyLeftmostHostLabelIsTemplated(template),
            let example = try? EndpointResolver.resolve(
                provider: service.provider,
                settings: service.integration.settings,
                templateValues: (service.provider.templateParameters ?? [:]).mapValues(\.example)
            )
        else {
            logUnknownOrigin(service, reason: "depends on values typed when connecting")
            return nil
        }
        return .anySubdomain(of: example.authorizationURL)
    }

    /// The enabled integration `key` of a tenant, for pages that offer one connect form (the connect failure page's
    /// *Try again*); nil when the integration is gone or turned off.
    public func offeredService(key: String?, tenantID: String) async -> Service? {
        guard let key else { return nil }
        return try? await service(key: key, tenantID: tenantID)
    }

    /// Records (at debug level) that the origin of `service`'s authorization endpoint is left out of a page's policy.
    public func logUnknownOrigin(_ service: Service, reason: String) {
        logger.debug(
            "authorization endpoint origin left out of the page policy; connect continues through an intermediate page",
            metadata: ["integration": "\(service.integration.key)", "reason": "\(reason)"]
        )
    }

    /// `https://{shop}.myshopify.com/…`: a placeholder in the first label of the host and nowhere else in it.
    static func onlyLeftmostHostLabelIsTemplated(_ template: String) -> Bool {
        guard let schemeEnd = template.range(of: "://") else { return false }
        let authority = template[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let labels = authority.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 3, let first = labels.first, first.contains("{") else { return false }
        return labels.dropFirst().allSatisfy { !$0.contains("{") && !$0.contains("}") }
    }
}
