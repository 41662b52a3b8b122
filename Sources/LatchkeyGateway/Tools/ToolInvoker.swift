import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders
public import LatchkeyStorage

/// Calls a catalog tool as an end user (DESIGN §4 "Invoke"): picks the integration that offers it, checks the input
/// against the tool's schema, builds the request (``ToolCall``), checks the credential's scopes, sends it through
/// the proxy (refresh, one retry on 401, only the provider's API host), and shapes the answer
/// (``ToolResultShaper``) or turns the provider's refusal into an error that says what to do (``ToolFailure``).
public struct ToolInvoker: Sendable {
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let resolver: CredentialResolver
    let proxy: ProxyService
    /// The records of datasets synced per credential, which tools with `fromDataset` answer from.
    let sync: any SyncStore
    /// The server's public URL (no trailing slash), for the absolute URLs of reconnect steps.
    let publicURL: String

    public init(
        integrations: IntegrationStore,
        catalog: ProviderCatalog,
        resolver: CredentialResolver,
        proxy: ProxyService,
        sync: any SyncStore,
        publicURL: String
    ) {
        self.integrations = integrations
        self.catalog = catalog
        self.resolver = resolver
        self.proxy = proxy
        self.sync = sync
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// A tool and the integration it is called through.
    public struct Target: Sendable {
        public var tool: Tool
        public var provider: Provider
        public var integration: Integration
        public var name: String { integration.displayName ?? provider.displayName }
    }

    /// What the caller asked for besides the tool: the input, and whose credential.
    public struct Invocation: Sendable {
        public var input: JSONValue?
        public var externalUserID: String?
        public var connectionID: String?
        public var credentialID: String?

        public init(input: JSONValue?, externalUserID: String?, connectionID: String?, credentialID: String?) {
            self.input = input
            self.externalUserID = externalUserID
            self.connectionID = connectionID
            self.credentialID = credentialID
        }
    }

    /// The tool's shaped result and how the call went.
    public struct Outcome: Sendable {
        public var result: JSONValue?
        /// The provider's HTTP status.
        public var status: Int
        public var durationMilliseconds: Int
        public var credential: Credential
        /// For a paged tool: the cursor of the next page (nil on the last) and the input field that takes it.
        public var nextCursor: String?
        public var cursorInput: String?
        /// Set when the answer came from this synced dataset: nothing was sent to the provider.
        public var dataset: String?
    }

    /// The tool named `name` and the tenant's enabled integration that offers it: `integration` when given, else
    /// the one integration whose provider defines the tool among those `usable` allows (all of them, when it allows
    /// none, so that the caller's refusal names one). Several candidates without `integration` are refused.
    public func target(tool name: String, integration key: String?, tenantID: String, usable: (String) -> Bool) async throws -> Target {
        guard let (provider, tool) = catalog.tool(named: name) else {
            throw LatchkeyError.invalidField("tool", "is not a tool of this server; GET /api/v1/tools lists the tools you can call")
        }
        if let key {
            // Named: read as a relayed call reads it (kept a few seconds, served in degraded mode).
            guard let integration = try await integrations.forCall(key: key, tenantID: tenantID), integration.enabled,
                integration.provider == provider.id
            else {
                throw LatchkeyError.invalidField("integration", "is not an enabled integration of \(provider.displayName) on this server")
            }
            return Target(tool: tool, provider: provider, integration: integration)
        }
        let offering = try await integrations.integrations.list(tenantID: tenantID)
            .filter { $0.enabled && $0.provider == provider.id }
            .sorted { $0.key < $1.key }
        let allowed = offering.filter { usable($0.key) }
        let candidates = allowed.isEmpty ? offering : allowed
        guard let first = candidates.first else {
            throw LatchkeyError(
                .notFound,
                "\(provider.displayName) is not set up on this server, so \(name) cannot be called. An administrator adds it under Integrations."
            )
        }
        guard candidates.count == 1 else {
            throw LatchkeyError.invalidRequest(
                "Several integrations offer \(name): \(candidates.map(\.key).joined(separator: ", ")). Name one in the integration field.",
                fields: [.init(path: "integration", message: "is required when several integrations offer the tool")]
            )
        }
        return Target(tool: tool, provider: provider, integration: first)
    }

    /// Calls `target`'s tool with `invocation` for `caller`. `found` is told the credential as soon as it is known
    /// (for the request log), before anything is sent.
    public func invoke(
        _ target: Target,
        _ invocation: Invocation,
        caller: CredentialResolver.Caller,
        found: @Sendable (Credential) -> Void = { _ in }
    ) async throws -> Outcome {
        // Counted by provider, tool and outcome (`latchkey_gateway_calls_total`), like proxy calls.
        try await GatewayCallMetrics.measure(provider: target.integration.key, tool: target.tool.name, status: \.status) {
            try await call(target, invocation, caller: caller, found: found)
        }
    }

    private func call(
        _ target: Target,
        _ invocation: Invocation,
        caller: CredentialResolver.Caller,
        found: @Sendable (Credential) -> Void
    ) async throws -> Outcome {
        let tool = target.tool
        if let source = tool.fromDataset { return try await answer(target, from: source, invocation, caller: caller, found: found) }
        let call = try ToolCall(tool: tool, input: invocation.input)
        var (query, credential) = try await credential(target, invocation, caller: caller, found: found)
        // The credential checked is the one used.
        query.credentialID = credential.id
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let contentType = call.contentType { headers.append(("Content-Type", contentType)) }
        let start = ContinuousClock.now
        let answer = try await proxy.send(
            .init(method: call.method, query: query, path: call.path, queryString: call.queryString, headers: headers, body: call.body),
            caller: caller
        )
        let elapsed = ContinuousClock.now - start
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        found(answer.credential)
        let failure = failure(target, answer.credential, caller: caller)
        if let error = failure.error(status: answer.status, headers: answer.headers, body: answer.body, tool: tool) { throw error }
        guard let shaped = ToolResultShaper(tool: tool).shape(answer.body) else {
            throw LatchkeyError(
                .providerUnreachable,
                "\(target.name) answered \(tool.name) with something that is not JSON or text; the tool cannot return it."
            )
        }
        return Outcome(
            result: shaped.result,
            status: answer.status,
            durationMilliseconds: milliseconds,
            credential: answer.credential,
            nextCursor: shaped.nextCursor,
            cursorInput: tool.result?.pagination?.cursorInput,
            dataset: nil
        )
    }

    /// The caller's credential for the call, found as for a token (DESIGN §2), and checked to hold one of the tool's
    /// scopes; `found` is told it first. Answers the query it was found with, too.
    func credential(
        _ target: Target,
        _ invocation: Invocation,
        caller: CredentialResolver.Caller,
        found: @Sendable (Credential) -> Void
    ) async throws -> (CredentialResolver.Query, Credential) {
        let query = CredentialResolver.Query(
            integrationKey: target.integration.key,
            externalUserID: invocation.externalUserID,
            credentialID: invocation.credentialID,
            connectionID: invocation.connectionID
        )
        let credential = try await resolver.find(query, caller: caller)
        found(credential)
        if let missing = ToolScopes.missing(for: target.tool, credential: credential) {
            throw failure(target, credential, caller: caller).insufficientScope(missing)
        }
        return (query, credential)
    }

    func failure(_ target: Target, _ credential: Credential, caller: CredentialResolver.Caller) -> ToolFailure {
        ToolFailure(name: target.name, provider: target.provider, credential: credential, appID: caller.appID, publicURL: publicURL)
    }
}
