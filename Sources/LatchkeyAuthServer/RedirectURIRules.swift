import Foundation

/// The rules of redirect URIs: which may be registered, and when a requested one matches a registered one
/// (exactly, byte for byte, except the port of a loopback `http` URI, RFC 8252 §7.3).
public enum RedirectURIRules {
    public static let maxLength = 2000

    /// Why `uri` cannot be registered, or nil when it can: an absolute `https` URI, or `http` on a loopback
    /// address; no fragment, no user info.
    public static func problem(_ uri: String) -> String? {
        guard uri.count <= maxLength else { return "A redirect URI is longer than \(maxLength) characters." }
        guard !uri.contains("#") else { return "A redirect URI must not have a fragment (#…)." }
        guard let components = URLComponents(string: uri), let scheme = components.scheme, let host = components.host, !host.isEmpty
        else { return "A redirect URI must be an absolute https URL (or http on localhost)." }
        guard components.user == nil, components.password == nil, !(components.percentEncodedHost ?? "").contains("@") else {
            return "A redirect URI must not hold a user name or password."
        }
        switch scheme {
        case "https": return nil
        case "http" where isLoopback(host: host): return nil
        case "http": return "A redirect URI must use https unless it is on localhost (127.0.0.1, [::1])."
        default: return "A redirect URI must use https (or http on localhost); \(scheme.prefix(20)): is not accepted."
        }
    }

    /// Whether `requested` designates `registered`: the same string, or for a loopback `http` URI the same but for
    /// the port.
    public static func matches(registered: String, requested: String) -> Bool {
        if registered == requested { return true }
        guard
            let want = URLComponents(string: registered), let got = URLComponents(string: requested),
            want.scheme == "http", got.scheme == "http", let host = want.host, isLoopback(host: host), got.host == host,
            got.user == nil, got.password == nil, got.fragment == nil,
            want.percentEncodedPath == got.percentEncodedPath, want.percentEncodedQuery == got.percentEncodedQuery
        else { return false }
        return true
    }

    /// The registered URI `requested` designates, if any.
    public static func match(_ requested: String, in registered: [String]) -> String? {
        registered.first { matches(registered: $0, requested: requested) }
    }

    /// `localhost`, `127.0.0.1` or `::1` (as URLComponents gives it, with or without brackets).
    public static func isLoopback(host: String) -> Bool {
        ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host)
    }

    /// `uri` with `parameters` added to its query.
    public static func adding(_ parameters: [(String, String)], to uri: String) -> String {
        guard var components = URLComponents(string: uri) else { return uri }
        var items = components.queryItems ?? []
        items.append(contentsOf: parameters.map { URLQueryItem(name: $0.0, value: $0.1) })
        components.queryItems = items
        // `+` is a space in form-encoded queries: encode it so that a value keeps it.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? uri
    }
}
