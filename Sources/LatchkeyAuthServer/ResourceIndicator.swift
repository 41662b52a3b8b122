import Foundation

/// RFC 8707 resource indicators, read leniently: the scheme and host in any case, the default port, one trailing
/// slash. What is bound is always the canonical form.
public enum ResourceIndicator {
    /// `requested` in canonical form when it designates `expected`; nil when it names another resource.
    public static func canonical(_ requested: String, expected: String) -> String? {
        guard
            !requested.contains("#"), var components = URLComponents(string: requested), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), components.user == nil, components.password == nil, components.query == nil
        else { return nil }
        components.scheme = scheme
        components.host = host
        if (scheme == "https" && components.port == 443) || (scheme == "http" && components.port == 80) { components.port = nil }
        if components.percentEncodedPath.count > 1, components.percentEncodedPath.hasSuffix("/") {
            components.percentEncodedPath.removeLast()
        }
        guard let text = components.string, text == expected else { return nil }
        return text
    }
}
