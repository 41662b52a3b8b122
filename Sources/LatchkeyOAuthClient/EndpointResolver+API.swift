public import Foundation
public import LatchkeyProviders

extension EndpointResolver {
    /// The base URL proxied API calls of a credential go to: the catalog's `proxyBaseURL` with its `{name}`
    /// placeholders filled from the credential's values (checked as for every other catalog URL), or, for the generic
    /// providers, the integration's `apiBaseURL` setting. Throws ``OAuthClientError/Kind/missingSetting(_:)`` naming
    /// what is missing when there is no usable base, or when a catalog base would be an IP address.
    public static func apiBaseURL(
        provider: Provider,
        settings: [String: String],
        templateValues: [String: String]
    ) throws(OAuthClientError) -> URL {
        if provider.oauth?.configurableEndpoints == true || provider.proxyBaseURL == nil {
            guard let value = settings["apiBaseURL"], !value.isEmpty, let url = URL(string: value),
                let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host?.isEmpty == false,
                url.user == nil, url.password == nil, url.query == nil, url.fragment == nil
            else { throw .missingSetting("apiBaseURL") }
            return url
        }
        let filler = TemplateFiller(parameters: provider.templateParameters ?? [:], values: templateValues)
        let url = try filler.url(provider.proxyBaseURL ?? "", setting: "proxyBaseURL")
        // Catalog APIs live on names; an address can only have come from a value stored on the credential.
        let host = url.host(percentEncoded: true) ?? ""
        if AddressClassifier.literal(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) != nil {
            throw .missingSetting("proxyBaseURL")
        }
        return url
    }
}
