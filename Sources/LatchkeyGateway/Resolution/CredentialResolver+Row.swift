import LatchkeyCore
import LatchkeyStorage

extension CredentialResolver {
    /// The sealed row of the credential `query` names for `caller`, in the order of DESIGN §2 (explicit wins; never
    /// another app's or tenant's):
    /// 1. `credentialId` → that credential, which must be under the caller's app, of the integration asked for,
    ///    on the Connection when one is named too, and, when an end user is named, theirs or shared;
    /// 2. `connectionId` + end user → that user's credential under that Connection, else its shared one;
    /// 3. `connectionId` → that Connection's shared credential;
    /// 4. end user → the app's Connection for the integration → the user's default credential, else their oldest →
    ///    the shared one;
    /// 5. neither → the app's Connection → the shared credential;
    /// 6. the console app (an admin key) resolves as 4 and 5, and its end users are also named by their email.
    ///
    /// Read through the vault's token-path cache of sealed rows (`CredentialVault+TokenPath.swift`), which is never
    /// behind a write. A Connection that is not the app's, or of another integration, is refused (audited); nothing
    /// matching is `not_connected`, with the next step as an absolute URL.
    func row(_ query: Query, caller: Caller) async throws -> CredentialVault.TokenRow {
        let resolution = CredentialVault.Resolution(
            tenantID: caller.tenantID,
            appID: caller.appID,
            integrationKey: query.integrationKey,
            credentialID: query.credentialID,
            connectionID: query.connectionID,
            externalUserID: query.externalUserID
        )
        let found: CredentialVault.TokenRow?
        do {
            found = try await vault.rowForToken(resolution)
        } catch let error as StorageError {
            throw try await vault.damaged(error, tenantID: caller.tenantID, actor: caller.actor)
        }
        if let found {
            let credential = found.stored.credential
            if query.credentialID != nil, credential.integrationKey != query.integrationKey {
                throw LatchkeyError.invalidField(
                    "credentialId",
                    "belongs to integration \(credential.integrationKey), not \(query.integrationKey)"
                )
            }
            // Both named: they must agree, checked on the resolved credential (the lookup by id ignores the Connection).
            if query.credentialID != nil, let connectionID = query.connectionID, credential.connectionID != connectionID.lowercased() {
                try await denied(connectionID, reason: "credential_of_another_connection", query, caller)
                throw LatchkeyError.invalidField(
                    "connectionId",
                    "does not hold credential \(credential.id) (it is on connection \(credential.connectionID)); send only one of them, or both that agree"
                )
            }
            return found
        }
        if let credentialID = query.credentialID {
            try await denied(credentialID, reason: "not_found_for_caller", query, caller)
            throw LatchkeyError.notFound("credential")
        }
        if let connectionID = query.connectionID { try await checkConnection(connectionID, query, caller) }
        throw notConnected(query, caller)
    }

    /// Why nothing was found under the Connection `id`: it is not the caller's app's (not found) or is of another
    /// integration (invalid field), both audited; when it is the right one, nothing is connected on it.
    private func checkConnection(_ id: String, _ query: Query, _ caller: Caller) async throws {
        let connection = try await vault.directory.connection(id: id, tenantID: caller.tenantID)
        let appID = try await self.appID(of: caller)
        guard let connection, connection.appID == appID else {
            try await denied(id, reason: "connection_not_found_for_caller", query, caller)
            throw LatchkeyError.notFound("connection")
        }
        guard connection.integrationKey == query.integrationKey else {
            try await denied(id, reason: "connection_of_another_integration", query, caller)
            throw LatchkeyError.invalidField("connectionId", "belongs to integration \(connection.integrationKey), not \(query.integrationKey)")
        }
    }

    /// Audits a refused lookup of `target` (a credential or Connection id) as `credential.access_denied`.
    private func denied(_ target: String, reason: String, _ query: Query, _ caller: Caller) async throws {
        try await vault.audit(
            AuditRecord(
                actor: caller.actor,
                action: "credential.access_denied",
                target: target,
                service: query.integrationKey,
                result: .denied,
                details: try await details(query, caller).merging(["reason": reason]) { a, _ in a }
            ),
            tenantID: caller.tenantID
        )
    }

    /// `not_connected`, saying what to do next with an absolute URL: the Connection Center for the console app, the
    /// connect-session route for an app (which hands its user a page to connect on).
    func notConnected(_ query: Query, _ caller: Caller) -> LatchkeyError {
        let integration = query.integrationKey
        let user = query.externalUserID.map { " for user \($0)" } ?? ""
        guard caller.appID != nil else {
            let url = publicURL + "/connections"
            return LatchkeyError(
                .notConnected,
                "Nothing is connected for \(integration)\(user). Connect the account in the Connection Center: \(url)",
                action: .init(type: "connect", url: url)
            )
        }
        let url = publicURL + "/api/v1/connect/sessions"
        let who = query.externalUserID.map { "externalUserId \"\($0)\"" } ?? "the user"
        return LatchkeyError(
            .notConnected,
            """
            Nothing is connected for \(integration)\(user). Start a connect session (POST \(url) with \(who) and \
            integration "\(integration)") and send the user to its connectUrl; then ask for the token again.
            """,
            action: .init(type: "connect", url: url)
        )
    }
}
