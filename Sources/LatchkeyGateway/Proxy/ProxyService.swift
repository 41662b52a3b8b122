public import Foundation
public import LatchkeyCore
public import LatchkeyLifecycle
public import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyStorage

/// Relays one call to a provider's API as an end user (DESIGN §4): resolves the credential (refreshed first when
/// due), builds the outbound URL on the provider's API base (``ProxyTarget``), puts the secret on it the provider's
/// way (``ProxyCredentials``), sends it through the policy-checked transport (size limit, timeout, no redirects
/// followed) and hands back the provider's status, filtered headers and body. The secret never appears in what it
/// returns or throws.
public struct ProxyService: Sendable {
    let resolver: CredentialResolver
    let providers: ProviderResolver
    let transport: any HTTPTransport
    /// Fair rate limits and the shared circuit; none in tests of the relay alone.
    let gate: ProviderCallGate?

    public init(resolver: CredentialResolver, providers: ProviderResolver, transport: any HTTPTransport, gate: ProviderCallGate? = nil) {
        self.resolver = resolver
        self.providers = providers
        self.transport = transport
        self.gate = gate
    }

    /// One call as it came in: the path relative to the API base and the query, both still percent-encoded.
    public struct Call: Sendable {
        public var method: String
        public var query: CredentialResolver.Query
        public var path: String
        public var queryString: String?
        public var headers: [(name: String, value: String)]
        public var body: Data?

        public init(
            method: String,
            query: CredentialResolver.Query,
            path: String,
            queryString: String?,
            headers: [(name: String, value: String)],
            body: Data?
        ) {
            self.method = method
            self.query = query
            self.path = path
            self.queryString = queryString
            self.headers = headers
            self.body = body
        }
    }

    /// The provider's answer, headers filtered, with the credential that was used.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: Data
        public var credential: Credential
    }

    /// Refuses a path or query that would leave the API base, before anything is resolved or sent.
    public static func check(path: String, queryString: String?) throws(LatchkeyError) {
        if let problem = ProxyTarget.pathProblem(path) { throw LatchkeyError.invalidField("path", problem) }
        if let queryString, let problem = ProxyTarget.queryProblem(queryString) { throw LatchkeyError.invalidField("query", problem) }
    }

    public func send(_ call: Call, caller: CredentialResolver.Caller) async throws -> Answer {
        try Self.check(path: call.path, queryString: call.queryString)
        let token = try await resolver.token(for: call.query, caller: caller)
        var credential = token.credential
        guard let (integration, provider) = try await providers.integration(of: credential) else {
            throw LatchkeyError(.notConnected, "The service \(credential.integrationKey) is no longer set up on this server.")
        }
        let name = integration.displayName ?? provider.displayName
        let base: URL
        do {
            base = try EndpointResolver.apiBaseURL(provider: provider, settings: integration.settings, templateValues: credential.connectionConfig)
        } catch {
            throw LatchkeyError(
                .conflict,
                "\(name) has no API base URL Latchkey can call for this credential (\(error.description)). "
                    + "Set the integration's apiBaseURL, or reconnect the account so that its values are stored."
            )
        }
        let url = try ProxyTarget.url(base: base, path: call.path, query: call.queryString)
        let forwarded = ProxyTarget.requestHeaders(call.headers)
        let endUser = call.query.externalUserID
        let ticket = try await gate?.admit(credential: credential, integration: integration, provider: provider, endUser: endUser, name: name)
        func send(_ token: CredentialResolver.Token) async throws -> OutboundResponse {
            let headers = forwarded + ProxyCredentials.headers(for: token.secret, provider: provider, callerHeaders: forwarded)
            do {
                let response = try await transport.send(OutboundRequest(method: call.method, url: url, headers: headers, body: call.body))
                try await ticket?.observe(response)
                return response
            } catch let error as OutboundError {
                await ticket?.failed(error)
                throw Self.failure(error, name: name)
            }
        }
        var response = try await send(token)
        if response.status == 401, credential.type == .oauth2 {
            // One forced refresh and one retry; a provider that still refuses means the person must reconnect.
            guard let refreshed = try await resolver.refreshed(after: token, for: call.query, caller: caller) else {
                throw resolver.refusedByProvider(token, providerName: name, caller: caller)
            }
            response = try await send(refreshed)
            if response.status == 401 { throw resolver.refusedByProvider(refreshed, providerName: name, caller: caller) }
            credential = refreshed.credential
        }
        if (300..<400).contains(response.status), let location = response.header("Location"),
            let target = URL(string: location, relativeTo: url)?.absoluteURL,
            target.host?.lowercased() != base.host?.lowercased() || target.scheme != base.scheme || target.port != base.port
        {
            throw LatchkeyError(
                .providerUnreachable,
                "\(name) redirected the call to another host (\(target.host ?? "unknown")). Latchkey does not follow or relay "
                    + "redirects off the provider's API host; call that address directly if you trust it."
            )
        }
        return Answer(status: response.status, headers: ProxyTarget.responseHeaders(response.headers), body: response.body, credential: credential)
    }

    /// What the caller is told when the provider gave no answer.
    static func failure(_ error: OutboundError, name: String) -> LatchkeyError {
        switch error {
        case .unreachable:
            LatchkeyError(.providerUnreachable, "Cannot reach \(name). This is usually temporary: try again in a moment.", retryAfter: 5)
        case .timedOut:
            LatchkeyError(.providerUnreachable, "\(name) did not answer in time. Try again in a moment.", retryAfter: 5)
        case .responseTooLarge(_, let limit):
            LatchkeyError(
                .providerUnreachable,
                "The answer of \(name) was larger than the proxy's limit of \(limit) bytes. Ask for less (a smaller page)."
            )
        case .blockedAddress:
            LatchkeyError(.forbidden, error.policyMessage ?? "The outbound policy refused the provider's address.")
        case .unsupportedURL(let reason):
            LatchkeyError(.invalidRequest, "Latchkey will not call that URL: \(reason).")
        }
    }
}
