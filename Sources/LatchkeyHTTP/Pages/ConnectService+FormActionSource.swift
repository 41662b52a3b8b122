import Foundation
import LatchkeyConnect

/// The `form-action` sources of the pages that offer connect forms (``ContentSecurityPolicy``), from where the
/// connect flow says each form's redirect goes.
extension ConnectService {
    /// The source for `service`'s connect redirect; nil when it is unknown or cannot be written as a CSP source (an
    /// IPv6 literal, a host with an underscore). Such a connect still works: ``ConnectionCenterController``
    /// continues through a page of our own (a link and a meta refresh, which are navigations, not form submissions).
    func formActionSource(for service: Service) -> FormActionSource? {
        switch redirectOrigin(for: service) {
        case nil:
            return nil
        case .origin(let url):
            return FormActionSource(origin: url) ?? unknownSource(service, reason: "not expressible as a CSP source")
        case .anySubdomain(let url):
            return FormActionSource(anySubdomainOf: url) ?? unknownSource(service, reason: "depends on values typed when connecting")
        }
    }

    /// The sources of every service in `services`, without duplicates.
    func formActionSources(for services: [Service]) -> [FormActionSource] {
        Array(Set(services.compactMap(formActionSource(for:)))).sorted()
    }

    /// The source for the enabled integration `key` of a tenant, for pages that offer one connect form (the connect
    /// failure page's *Try again*); none when the integration is gone or turned off.
    func formActionSources(key: String?, tenantID: String) async -> [FormActionSource] {
        guard let service = await offeredService(key: key, tenantID: tenantID) else { return [] }
        return formActionSource(for: service).map { [$0] } ?? []
    }

    private func unknownSource(_ service: Service, reason: String) -> FormActionSource? {
        logUnknownOrigin(service, reason: reason)
        return nil
    }
}
