import Foundation

/// The `Content-Security-Policy` of a server-rendered page.
///
/// Every page allows nothing but its own inline styles, may not be framed, and lets its forms submit to our own
/// origin only — except pages whose forms answer with a redirect to another site (*Connect* to a provider; later the
/// hosted connect page and OAuth consent → client). Chromium applies `form-action` to the redirect that follows a
/// form POST, so such a page lists exactly the origins its forms can be redirected to, and nothing more.
struct ContentSecurityPolicy: Sendable, Equatable {
    /// Origins besides our own that the page's forms may lead to, sorted and without duplicates.
    let formActions: [FormActionSource]

    /// The policy of every page whose forms stay on our origin.
    static let standard = ContentSecurityPolicy()

    /// Whether the page may run our own scripts (`script-src 'self'`): only the hosted connect page's finished
    /// page, which reports to `/connect.js` in the app's window. No inline script, ever.
    var ownScripts = false

    /// Whether the page's scripts may call our own origin (`connect-src 'self'`): the passkey pages, whose script
    /// fetches the WebAuthn options and posts the browser's answer.
    var ownRequests = false

    /// The one origin the page may load an image from (`img-src`): the app's logo on the hosted connect pages,
    /// https only. Nil: no image at all.
    var imageSource: FormActionSource?

    init(formActions: some Sequence<FormActionSource> = []) {
        self.formActions = Set(formActions).sorted()
    }

    /// The https origin of an app's logo URL, when the hosted connect pages may show it; nil otherwise.
    static func logoSource(_ logoURL: String?) -> FormActionSource? {
        guard let logoURL, let url = URL(string: logoURL), url.scheme?.lowercased() == "https" else { return nil }
        return FormActionSource(origin: url)
    }

    /// The header value. Sources are validated origins (``FormActionSource``): nothing typed by a person, and no
    /// quote, semicolon, comma or space can reach the header through them.
    var headerValue: String {
        let sources = (["'self'"] + formActions.map(\.value)).joined(separator: " ")
        let scripts = (ownScripts ? "; script-src 'self'" : "") + (ownRequests ? "; connect-src 'self'" : "")
        let images = imageSource.map { "; img-src \($0.value)" } ?? ""
        return "default-src 'none'; style-src 'unsafe-inline'\(scripts)\(images); form-action \(sources); frame-ancestors 'none'"
    }
}

/// One origin, in CSP source syntax, that a form may be redirected to: `https://host[:port]`, or `https://*.suffix`
/// when the leftmost label of the host depends on the account (a Shopify shop, a Zendesk subdomain).
///
/// Built only from a parsed URL whose scheme is http(s) and whose host is plain letters, digits, dots and hyphens,
/// so a value can never end a directive or add a source of its own.
struct FormActionSource: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The source expression as it appears in the header.
    let value: String
    private let scheme: String
    private let host: String
    private let port: Int?
    private let wildcard: Bool

    /// The origin of `url`; nil when it cannot be written as a CSP source (another scheme, an IP v6 literal, a host
    /// with characters outside letters, digits, dots and hyphens).
    init?(origin url: URL) {
        self.init(url, wildcard: false)
    }

    /// `scheme://*.rest-of-host[:port]`: the origin of `url` with its leftmost host label replaced by a wildcard.
    /// Nil when the host has fewer than three labels (a wildcard over a whole registrable domain or a top-level
    /// domain is wider than any provider needs).
    init?(anySubdomainOf url: URL) {
        self.init(url, wildcard: true)
    }

    private init?(_ url: URL, wildcard: Bool) {
        guard let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let rawHost = url.host?.lowercased(), url.user == nil, url.password == nil
        else { return nil }
        var labels = rawHost.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !labels.isEmpty, labels.allSatisfy(Self.isHostLabel) else { return nil }
        if wildcard {
            guard labels.count >= 3 else { return nil }
            labels.removeFirst()
        }
        let host = labels.joined(separator: ".")
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port.flatMap { $0 == defaultPort ? nil : $0 }
        if let port, !(1...65535).contains(port) { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
        self.wildcard = wildcard
        self.value = "\(scheme)://\(wildcard ? "*." : "")\(host)\(port.map { ":\($0)" } ?? "")"
    }

    private static func isHostLabel(_ label: String) -> Bool {
        !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
            && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Whether a browser applying this source lets a form be redirected to `url`.
    func allows(_ url: URL) -> Bool {
        guard let other = FormActionSource(origin: url), other.scheme == scheme, other.port == port else { return false }
        return wildcard ? other.host.hasSuffix("." + host) : other.host == host
    }

    static func < (lhs: FormActionSource, rhs: FormActionSource) -> Bool { lhs.value < rhs.value }

    var description: String { value }
}
