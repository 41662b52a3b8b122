import Foundation

/// Which `Origin` a browser-borne request to `/mcp` may come from (DNS-rebinding protection): none (not a browser),
/// the server's own public origin, or — when the server listens on loopback — any loopback origin.
struct MCPOriginPolicy: Sendable {
    /// `scheme://host[:port]` of the public URL, lowercased, default port left out.
    let ownOrigin: String?
    let allowsLoopback: Bool

    init(publicURL: String, listenHost: String) {
        ownOrigin = URL(string: publicURL).flatMap(Self.origin)
        allowsLoopback = Self.isLoopback(listenHost)
    }

    /// Whether a request carrying `origin` (the header's value; nil when absent) is let through.
    func allows(_ origin: String?) -> Bool {
        guard let origin else { return true }
        guard let url = URL(string: origin.trimmingCharacters(in: .whitespaces)), let normalized = Self.origin(url) else { return false }
        if normalized == ownOrigin { return true }
        return allowsLoopback && Self.isLoopback(url.host ?? "")
    }

    static func origin(_ url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host?.lowercased(), !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)\(port)"
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
