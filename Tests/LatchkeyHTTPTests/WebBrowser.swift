import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import NIOCore

/// A browser for router tests: keeps cookies, follows nothing on its own, and reads the CSRF token of the last page.
actor WebBrowser {
    let client: any TestClientProtocol
    private(set) var cookies: [String: String] = [:]
    private(set) var lastCSRF: String?
    private var extraHeaders: [String: String] = [:]

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    struct Page: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String
        var location: String? { headers[.location] }
    }

    func get(_ uri: String) async throws -> Page {
        try await send(uri, method: .get, body: nil)
    }

    /// Posts a form; `csrf: true` adds the token of the last page.
    func post(_ uri: String, _ fields: [String: String] = [:], csrf: Bool = true) async throws -> Page {
        var fields = fields
        if csrf, fields["csrf_token"] == nil, let token = lastCSRF { fields["csrf_token"] = token }
        var components = URLComponents()
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return try await send(uri, method: .post, body: ByteBuffer(string: encoded), contentType: "application/x-www-form-urlencoded")
    }

    func setCookie(_ name: String, _ value: String) { cookies[name] = value }

    /// A header sent with every later request (nil removes it), e.g. `X-Forwarded-For`.
    func setHeader(_ name: String, _ value: String?) { extraHeaders[name] = value }

    private func send(_ uri: String, method: HTTPRequest.Method, body: ByteBuffer?, contentType: String? = nil) async throws -> Page {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if let contentType { headers[.contentType] = contentType }
        for (name, value) in extraHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[1].isEmpty || line.contains("Max-Age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        let text = String(buffer: response.body)
        if let token = Self.csrf(in: text) { lastCSRF = token }
        return Page(status: response.status, headers: response.headers, text: text)
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf_token" value="([^"]+)""#, options: .regularExpression) else { return nil }
        let match = html[range]
        return match.split(separator: "\"").dropFirst(3).first.map(String.init)
    }

    /// Path and query of an absolute URL, for the router client.
    static func pathAndQuery(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        components.scheme = nil
        components.host = nil
        components.port = nil
        return components.string ?? url.path
    }

    /// Signs in through the form.
    func signIn(email: String, password: String) async throws -> Page {
        _ = try await get("/login")
        return try await post("/login", ["email": email, "password": password, "next": "/connections"])
    }
}

enum TestUsers {
    /// A console user with a cheap bcrypt cost (verification works at any cost).
    @discardableResult
    static func create(
        _ fixture: TestFixture,
        email: String,
        password: String = "correct-horse-battery",
        admin: Bool = false,
        role: Role? = nil
    ) async throws -> User {
        try await fixture.runtime.tenants.createUser(
            tenantID: fixture.tenantID,
            email: email,
            displayName: String(email.split(separator: "@")[0]).capitalized,
            passwordHash: Bcrypt.hash(password, cost: 4),
            role: role ?? (admin ? .admin : .member),
            actor: .cli
        )
    }
}

enum TestIntegrations {
    /// The `sandbox` integration as `serve --demo` sets it up, its endpoints under `base`.
    @discardableResult
    static func sandbox(
        _ fixture: TestFixture,
        base: String = "https://sandbox.example",
        scopes: [String] = ["profile"]
    ) async throws
        -> Integration
    {
        try await fixture.runtime.integrations.create(
            .init(
                key: "sandbox",
                provider: "sandbox",
                clientID: "latchkey-sandbox",
                clientSecret: "sandbox-secret",
                scopes: scopes,
                settings: ["authorizationURL": base + "/authorize", "tokenURL": base + "/token", "apiBaseURL": base + "/api"]
            ),
            tenantID: fixture.tenantID,
            actor: .cli
        )
    }
}

extension TestFixture {
    /// The tenant's audit events, oldest first (up to 500).
    func auditEvents() async throws -> [AuditEvent] {
        try await runtime.audit.repository.page(tenantID: tenantID, afterSeq: nil, limit: 500)
    }
}

extension WebBrowser.Page {
    /// The value a page shows once in the element `id` (a generated password, a signing secret), when it matches
    /// `pattern` (a regular expression for the value alone).
    func shownOnce(_ id: String, pattern: String) -> String? {
        let prefix = #"id="\#(id)">"#
        guard let range = text.range(of: prefix + pattern, options: .regularExpression) else { return nil }
        return String(text[range].dropFirst(prefix.count))
    }
}
