public import LatchkeyCore
public import LatchkeyLifecycle
public import LatchkeyStorage

/// Finds the credential a caller means (DESIGN §2) and hands back a usable access token, refreshed first when it
/// has expired or is about to (exactly once across all instances). Every token handed out is audited.
public struct CredentialResolver: Sendable {
    let vault: CredentialVault
    let coordinator: RefreshCoordinator

    public init(vault: CredentialVault, coordinator: RefreshCoordinator) {
        self.vault = vault
        self.coordinator = coordinator
    }

    /// What a caller asks for: an integration, and optionally the end user it acts for or one credential by id.
    public struct Query: Sendable {
        public var tenantID: String
        public var integrationKey: String
        public var externalUserID: String?
        public var credentialID: String?
        public var actor: AuditActor

        public init(tenantID: String, integrationKey: String, externalUserID: String?, credentialID: String?, actor: AuditActor) {
            self.tenantID = tenantID
            self.integrationKey = integrationKey
            self.externalUserID = externalUserID
            self.credentialID = credentialID
            self.actor = actor
        }
    }

    /// An access token ready to use, with the credential it came from.
    public struct Token: Sendable {
        public var credential: Credential
        public var accessToken: String
        /// `Bearer` unless the provider named another type.
        public var tokenType: String
    }

    /// The access token for `query`; `not_connected` when nothing matches.
    public func token(for query: Query) async throws -> Token {
        // Resolved once (one version read on PostgreSQL) and opened here; the coordinator is asked only when the
        // credential is not usable as it is.
        let resolved = try await row(query)
        let credential = resolved.stored.credential
        let fresh: Credential
        let secret: CredentialSecret
        do {
            if credential.status == .active, !coordinator.needsRefresh(credential, now: vault.clock.now) {
                let opened = try await vault.openForToken(resolved)
                (fresh, secret) = (opened.stored.credential, opened.secret)
            } else {
                (fresh, secret) = try await coordinator.freshToken(id: credential.id, tenantID: query.tenantID)
            }
        } catch let error as LatchkeyError where error.code == .decryptionFailed {
            // The vault flagged and audited the unreadable credential; record who asked for it.
            try await vault.audit(
                AuditRecord(
                    actor: query.actor,
                    action: "credential.token",
                    target: credential.id,
                    service: credential.integrationKey,
                    result: .failure,
                    details: ["reason": "decryption_failed"]
                ),
                tenantID: query.tenantID
            )
            throw error
        }
        guard let accessToken = secret.accessToken else {
            throw LatchkeyError.invalidRequest("This credential is not an OAuth token; use reveal for API keys and passwords.")
        }
        try await vault.recordTokenAccess(fresh, secret: secret, actor: query.actor)
        let tokenType = secret.tokenType.map { $0.lowercased() == "bearer" ? "Bearer" : $0 } ?? "Bearer"
        return Token(credential: fresh, accessToken: accessToken, tokenType: tokenType)
    }

    /// The credential `query` names: the one asked for by id (which must belong to the integration and, when an end
    /// user is named, to that user or be shared), else the console app's rule (DESIGN §2, rule 6): the named end
    /// user's default credential of the integration, else the integration's shared credential. Read through the vault's
    /// token-path cache of sealed rows (`CredentialVault+TokenPath.swift`), which is never behind a write.
    public func find(_ query: Query) async throws -> Credential {
        try await row(query).stored.credential
    }

    /// The sealed row of the credential `query` names (see `find`).
    func row(_ query: Query) async throws -> CredentialVault.TokenRow {
        if let id = query.credentialID {
            let row = try await vault.rowForToken(id: id, tenantID: query.tenantID, actor: query.actor)
            let credential = row.stored.credential
            guard credential.integrationKey == query.integrationKey else {
                throw LatchkeyError.invalidField(
                    "credentialId",
                    "belongs to integration \(credential.integrationKey), not \(query.integrationKey)"
                )
            }
            if let external = query.externalUserID, credential.externalUserID != nil, credential.externalUserID != external {
                throw LatchkeyError.notFound("credential")
            }
            return row
        }
        return try await consoleRow(query)
    }

    /// The console app's sealed row for `query` (DESIGN §2, rule 6); `not_connected` when there is none.
    func consoleRow(_ query: Query) async throws -> CredentialVault.TokenRow {
        let found: CredentialVault.TokenRow?
        do {
            found = try await vault.consoleRowForToken(
                tenantID: query.tenantID,
                integrationKey: query.integrationKey,
                owner: query.externalUserID.map { .endUser(externalID: $0) } ?? .shared
            )
        } catch let error as StorageError {
            throw try await vault.damaged(error, tenantID: query.tenantID, actor: query.actor)
        }
        guard let found else {
            let user = query.externalUserID.map { " and user \($0)" } ?? ""
            throw LatchkeyError(
                .notConnected,
                "Nothing is connected for \(query.integrationKey)\(user). Connect the account first.",
                action: .init(type: "connect", url: "/connections")
            )
        }
        return found
    }
}
