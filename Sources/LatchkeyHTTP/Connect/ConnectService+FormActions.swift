import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders
import Logging

/// Where the browser goes when a connect form is submitted: the origin of the provider's authorization endpoint, for
/// the page's `Content-Security-Policy` (``ContentSecurityPolicy``).
extension ConnectService {
    /// The origin a *Connect*, *Reconnect* or *Try again* form for `service` is redirected to, resolved exactly as
    /// the connect start resolves it (catalog entry, a generic `oauth2` integration's settings, or the endpoints an
    /// `oidc` integration read from its discovery document when it was created).
    ///
    /// When the authorization URL depends on what the person types first (a Shopify shop, a Zendesk subdomain) and
    /// only the leftmost label of its host does, the source is a wildcard over that label (`https://*.myshopify.com`).
    ///
    /// Nil for services that never redirect (API keys, basic credentials) and for origins that cannot
    /// be known or written as a CSP source (a whole-host template, an IPv6 literal, a host with an underscore). Such a
    /// connect still works in every browser: ``start(user:key:browserID:form:reconnect:)`` reports the redirect as not
    /// covered by the page's policy and the controller continues through a page of our own (a link and a meta
    /// refresh, which are navigations, not form submissions).
    func formActionSource(for service: Service) -> FormActionSource? {
        guard service.provider.authMode == .oauth2, service.provider.oauth != nil else { return nil }
        if let endpoints = try? EndpointResolver.resolve(provider: service.provider, settings: service.integration.settings, templateValues: [:]) {
            return FormActionSource(origin: endpoints.authorizationURL) ?? unknownOrigin(service, reason: "not expressible as a CSP source")
        }
        guard let template = service.provider.oauth?.authorizationURL?.url, Self.onlyLeftmostHostLabelIsTemplated(template),
            let example = try? EndpointResolver.resolve(
                provider: service.provider,
                settings: service.integration.settings,
                templateValues: (service.provider.templateParameters ?? [:]).mapValues(\.example)
            ),
            let source = FormActionSource(anySubdomainOf: example.authorizationURL)
        else { return unknownOrigin(service, reason: "depends on values typed when connecting") }
        return source
    }

    /// The sources of every service in `services`, without duplicates.
    func formActionSources(for services: [Service]) -> [FormActionSource] {
        Array(Set(services.compactMap(formActionSource(for:)))).sorted()
    }

    /// The source for the enabled integration `key` of a tenant, for pages that offer one connect form (the connect
    /// failure page's *Try again*); none when the integration is gone or turned off.
    func formActionSources(key: String?, tenantID: String) async -> [FormActionSource] {
        guard let key, let service = try? await service(key: key, tenantID: tenantID) else { return [] }
        return formActionSource(for: service).map { [$0] } ?? []
    }

    private func unknownOrigin(_ service: Service, reason: String) -> FormActionSource? {
        logger.debug(
            "authorization endpoint origin left out of the page policy; connect continues through an intermediate page",
            metadata: ["integration": "\(service.integration.key)", "reason": "\(reason)"]
        )
        return nil
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
