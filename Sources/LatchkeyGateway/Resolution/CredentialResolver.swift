public import LatchkeyCore
public import LatchkeyLifecycle
public import LatchkeyStorage

/// Finds the credential a caller means (DESIGN §2, "Credential resolution") and hands back what it needs to call the
/// provider: an access token, refreshed first when it has expired or is about to (exactly once across all
/// instances), an API key, or a username and password. Every hand-out is audited as `credential.token`, with the
/// app and the end user. The one resolver of the product: the token route, and every other caller, go through it.
public struct CredentialResolver: Sendable {
    let vault: CredentialVault
    let coordinator: RefreshCoordinator
    /// The server's public URL (no trailing slash): the next step of a `not_connected` answer is an absolute URL.
    let publicURL: String
    let consoleApps = ConsoleAppIDs()

    public init(vault: CredentialVault, coordinator: RefreshCoordinator, publicURL: String) {
        self.vault = vault
        self.coordinator = coordinator
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// Who asks: a tenant, and the app acting in it. An admin key acts for the tenant's console app.
    public struct Caller: Sendable {
        public var tenantID: String
        /// The caller's app; nil for the console app (an admin key).
        public var appID: String?
        public var actor: AuditActor

        public init(tenantID: String, appID: String?, actor: AuditActor) {
            self.tenantID = tenantID
            self.appID = appID
            self.actor = actor
        }
    }

    /// What a caller asks for: an integration, and optionally the end user it acts for, one Connection and one
    /// credential by id.
    public struct Query: Sendable {
        public var integrationKey: String
        public var externalUserID: String?
        public var credentialID: String?
        public var connectionID: String?

        public init(integrationKey: String, externalUserID: String? = nil, credentialID: String? = nil, connectionID: String? = nil) {
            self.integrationKey = integrationKey
            self.externalUserID = externalUserID
            self.credentialID = credentialID
            self.connectionID = connectionID
        }
    }

    /// A credential's secret ready to use, with the credential it came from.
    public struct Token: Sendable {
        public var credential: Credential
        public var secret: Secret
    }

    /// What a provider call needs, by the credential's type.
    public enum Secret: Sendable, Equatable {
        /// An OAuth access token; `tokenType` is `Bearer` unless the provider named another type.
        case oauth(accessToken: String, tokenType: String)
        case apiKey(String)
        case basic(username: String, password: String)
    }

    /// The secret `query` resolves to for `caller`; `not_connected` (with the next step as an absolute URL) when
    /// nothing matches.
    public func token(for query: Query, caller: Caller) async throws -> Token {
        // Resolved once (one version read on PostgreSQL) and opened here; the coordinator is asked only when the
        // credential is not usable as it is.
        let resolved = try await row(query, caller: caller)
        let credential = resolved.stored.credential
        do {
            return try await open(resolved, query, caller: caller)
        } catch let error as LatchkeyError {
            throw reconnectable(error, credential: credential, caller: caller)
        }
    }

    /// Opens (refreshing first when needed) the resolved credential, and audits the hand-out.
    private func open(_ resolved: CredentialVault.TokenRow, _ query: Query, caller: Caller) async throws -> Token {
        let credential = resolved.stored.credential
        let fresh: Credential
        let secret: CredentialSecret
        do {
            if credential.status == .active, !coordinator.needsRefresh(credential, now: vault.clock.now) {
                let opened = try await vault.openForToken(resolved)
                (fresh, secret) = (opened.stored.credential, opened.secret)
            } else {
                (fresh, secret) = try await coordinator.freshToken(id: credential.id, tenantID: caller.tenantID)
            }
        } catch let error as LatchkeyError where error.code == .decryptionFailed {
            // The vault flagged and audited the unreadable credential; record who asked for it.
            try await vault.audit(
                AuditRecord(
                    actor: caller.actor,
                    action: "credential.token",
                    target: credential.id,
                    service: credential.integrationKey,
                    result: .failure,
                    details: try await details(query, caller).merging(["reason": "decryption_failed"]) { a, _ in a },
                    person: credential.endUserID
                ),
                tenantID: caller.tenantID
            )
            throw error
        }
        let usable = try Self.secret(of: fresh, secret)
        var recorded = try await details(query, caller)
        recorded["owner"] = fresh.externalUserID ?? "shared"
        try await vault.recordTokenAccess(fresh, secret: secret, actor: caller.actor, details: recorded)
        return Token(credential: fresh, secret: usable)
    }

    /// The credential `query` names for `caller` (see `row`), without opening it.
    public func find(_ query: Query, caller: Caller) async throws -> Credential {
        try await row(query, caller: caller).stored.credential
    }

    /// The usable secret of a credential of `credential`'s type.
    static func secret(of credential: Credential, _ secret: CredentialSecret) throws -> Secret {
        switch credential.type {
        case .oauth2:
            guard let accessToken = secret.accessToken else { throw Self.missing(credential) }
            let tokenType = secret.tokenType.map { $0.lowercased() == "bearer" ? "Bearer" : $0 } ?? "Bearer"
            return .oauth(accessToken: accessToken, tokenType: tokenType)
        case .apiKey:
            guard let apiKey = secret.apiKey else { throw Self.missing(credential) }
            return .apiKey(apiKey)
        case .basic:
            guard let username = secret.username, let password = secret.password else { throw Self.missing(credential) }
            return .basic(username: username, password: password)
        }
    }

    private static func missing(_ credential: Credential) -> LatchkeyError {
        LatchkeyError(
            .needsReauth,
            "The stored \(credential.integrationKey) credential has no usable secret. Import it again or reconnect.",
            action: .init(type: "reconnect")
        )
    }

    /// Who the hand-out was for, for the audit event: the app (the console app's id for an admin key) and the end
    /// user named, and whose credential answered.
    func details(_ query: Query, _ caller: Caller) async throws -> [String: String] {
        var details = ["app": try await appID(of: caller) ?? "console"]
        if let external = query.externalUserID { details["end_user"] = external }
        if let connection = query.connectionID { details["connection"] = connection }
        return details
    }

    /// The caller's app: its own, or the tenant's console app for an admin key.
    func appID(of caller: Caller) async throws -> String? {
        if let appID = caller.appID { return appID }
        return try await consoleApps.id(tenantID: caller.tenantID, directory: vault.directory)
    }
}
