import Foundation
import LatchkeyCore
public import LatchkeyStorage

extension AuthorizationServer {
    /// The client behind the credentials of a token, revocation or introspection request: unknown clients and
    /// wrong secrets are `invalid_client` (401), so that a client may register again.
    public func authenticate(_ credentials: ClientCredentials?) async throws -> OAuthClientRecord {
        guard let credentials, !credentials.clientID.isEmpty else {
            throw OAuthError.invalidClient("Name the client: client_id, or HTTP Basic authentication.")
        }
        let found: OAuthClientRecord?
        do {
            found = try await client(id: credentials.clientID)
        } catch {
            throw OAuthError.invalidClient("The client's metadata document could not be used.")
        }
        guard let client = found else {
            throw OAuthError.invalidClient("This client is not registered here (it may have expired): register again.")
        }
        guard client.authMethod != "none" else { return client }
        guard let secret = credentials.secret, let expected = client.secretHash, hash(secret, .clientSecret) == expected else {
            throw OAuthError.invalidClient("The client secret is missing or wrong.")
        }
        if let expires = client.secretExpiresAt, expires <= clock.now {
            throw OAuthError.invalidClient("The client secret has expired: register again.")
        }
        return client
    }

    /// `/oauth/token`: `authorization_code` and `refresh_token` grants.
    public func token(_ form: [String: String], credentials: ClientCredentials?, actor: AuditActor) async throws -> TokenResponse {
        guard let grantType = form["grant_type"], !grantType.isEmpty else { throw OAuthError.invalidRequest("grant_type is missing.") }
        guard grantType == "authorization_code" || grantType == "refresh_token" else {
            throw OAuthError.unsupportedGrantType("Only authorization_code and refresh_token are supported.")
        }
        let client = try await authenticate(credentials)
        if let requested = form["resource"], ResourceIndicator.canonical(requested, expected: settings.resource) == nil {
            throw OAuthError.invalidTarget("This server only issues tokens for \(settings.resource).")
        }
        if grantType == "authorization_code" {
            return try await redeem(form, client: client, actor: actor)
        }
        return try await refresh(form, client: client, actor: actor)
    }

    private func redeem(_ form: [String: String], client: OAuthClientRecord, actor: AuditActor) async throws -> TokenResponse {
        guard let code = form["code"], !code.isEmpty else { throw OAuthError.invalidRequest("code is missing.") }
        guard let verifier = form["code_verifier"], !verifier.isEmpty else {
            throw OAuthError.invalidRequest("code_verifier is missing (PKCE is required).")
        }
        let now = clock.now
        let codeHash = hash(code, .code)
        guard let (record, storedGrant) = try await tokens.findCode(hash: codeHash) else {
            throw OAuthError.invalidGrant("The authorization code is not valid.")
        }
        let status = ExchangeStatus(rawValue: record.status) ?? .failed
        var machine = ExchangeStateMachine(status: status, attemptDeadline: record.expiresAt, expiresAt: record.expiresAt)
        // Checks first: a failed check does not consume the code.
        if status == .pending, record.expiresAt > now {
            guard record.clientID == client.id else { throw OAuthError.invalidGrant("The authorization code was issued to another client.") }
            if let redirect = form["redirect_uri"], redirect != record.redirectURI {
                throw OAuthError.invalidGrant("redirect_uri differs from the one of the authorization request.")
            }
            guard PKCE.verify(verifier: verifier, challenge: record.codeChallenge) else {
                throw OAuthError.invalidGrant("The code_verifier does not match the code_challenge.")
            }
        }
        switch machine.claim(now: now) {
        case .record:
            break
        case .expire(let transition):
            _ = try await tokens.moveCode(hash: codeHash, from: transition.from.rawValue, to: transition.to.rawValue, at: now, issuing: [])
            throw OAuthError.invalidGrant("The authorization code has expired; authorize again.")
        case .refuse(.finished(.expired)), .refuse(.finished(.failed)):
            throw OAuthError.invalidGrant("The authorization code has expired; authorize again.")
        case .refuse:
            try await replayed(record, actor: actor)
        }
        guard case .record(let done) = machine.complete(now: now),
            let grant = storedGrant, grant.revokedAt == nil
        else { throw OAuthError.invalidGrant("The authorization was revoked; authorize again.") }
        let issued = issue(
            grant: grant,
            clientID: client.id,
            scopes: record.scopes,
            familyID: NewID.make(),
            parentID: nil,
            codeHash: codeHash,
            now: now
        )
        guard try await tokens.moveCode(hash: codeHash, from: ExchangeStatus.pending.rawValue, to: done.to.rawValue, at: now, issuing: issued.records)
        else { try await replayed(record, actor: actor) }
        try await finish(issued, grant: grant, client: client, action: "oauth.token.issue", actor: actor)
        return issued.response
    }

    /// A code presented again: every token it issued is revoked (RFC 6819 §4.4.1.1).
    private func replayed(_ record: OAuthCodeRecord, actor: AuditActor) async throws -> Never {
        let revoked = try await tokens.revokeTokens(issuedFor: record.codeHash, now: clock.now)
        cache.invalidateAll()
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "oauth.code.replay",
                target: record.grantID,
                result: .failure,
                details: ["client_id": record.clientID, "revoked_tokens": String(revoked)]
            ),
            tenantID: tenantID
        )
        throw OAuthError.invalidGrant("The authorization code was already used; the tokens it issued are revoked.")
    }

    private func refresh(_ form: [String: String], client: OAuthClientRecord, actor: AuditActor) async throws -> TokenResponse {
        guard let presented = form["refresh_token"], !presented.isEmpty else { throw OAuthError.invalidRequest("refresh_token is missing.") }
        let now = clock.now
        let key = hash(presented, .token)
        guard let (record, grant) = try await tokens.find(hash: key), record.kind == .refresh, record.clientID == client.id else {
            throw OAuthError.invalidGrant("The refresh token is not valid.")
        }
        guard record.revokedAt == nil, grant.revokedAt == nil else {
            throw OAuthError.invalidGrant("The refresh token was revoked; authorize again.")
        }
        if record.usedAt != nil { try await reused(record, actor: actor) }
        guard record.expiresAt > now else { throw OAuthError.invalidGrant("The refresh token has expired; authorize again.") }
        let scopes = try ScopePolicy.refresh(form["scope"], granted: record.scopes)
        let issued = issue(grant: grant, clientID: client.id, scopes: scopes, familyID: record.familyID, parentID: record.id, codeHash: nil, now: now)
        guard try await tokens.rotate(refreshHash: key, at: now, issuing: issued.records) else { try await reused(record, actor: actor) }
        try await finish(issued, grant: grant, client: client, action: "oauth.token.refresh", actor: actor)
        return issued.response
    }

    /// A refresh token used a second time: the whole family is revoked.
    private func reused(_ record: OAuthTokenRecord, actor: AuditActor) async throws -> Never {
        let revoked = try await tokens.revokeFamily(record.familyID, now: clock.now)
        cache.invalidateAll()
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "oauth.refresh.reuse",
                target: record.grantID,
                result: .failure,
                details: ["client_id": record.clientID, "revoked_tokens": String(revoked)]
            ),
            tenantID: tenantID
        )
        throw OAuthError.invalidGrant("The refresh token was already used; every token of this authorization is revoked.")
    }

    struct Issued {
        var records: [OAuthTokenRecord]
        var response: TokenResponse
    }

    private func issue(
        grant: OAuthGrantRecord,
        clientID: String,
        scopes: [String],
        familyID: String,
        parentID: String?,
        codeHash: String?,
        now: Date
    ) -> Issued {
        let access = SecureRandom.token(prefix: Self.accessTokenPrefix)
        let refresh = SecureRandom.token(prefix: Self.refreshTokenPrefix)
        func record(_ secret: String, _ kind: OAuthTokenRecord.Kind, lifetime: TimeInterval) -> OAuthTokenRecord {
            OAuthTokenRecord(
                tokenHash: hash(secret, .token),
                id: NewID.make(),
                kind: kind,
                tenantID: grant.tenantID,
                grantID: grant.id,
                clientID: clientID,
                userID: grant.userID,
                familyID: familyID,
                parentID: parentID,
                codeHash: codeHash,
                scopes: scopes,
                resource: grant.resource,
                createdAt: now,
                expiresAt: now.addingTimeInterval(lifetime)
            )
        }
        return Issued(
            records: [
                record(access, .access, lifetime: settings.accessTokenLifetime),
                record(refresh, .refresh, lifetime: settings.refreshTokenLifetime),
            ],
            response: TokenResponse(
                accessToken: access,
                expiresIn: Int(settings.accessTokenLifetime),
                refreshToken: refresh,
                scope: scopes.joined(separator: " ")
            )
        )
    }

    private func finish(_ issued: Issued, grant: OAuthGrantRecord, client: OAuthClientRecord, action: String, actor: AuditActor) async throws {
        // A client's last use moves at most once a minute (it only decides when an unused registration expires).
        let now = clock.now
        if client.kind != .document, clientCache.shouldTouch(client, now: now) {
            try await clients.touch(id: client.id, at: now)
        }
        let record = AuditRecord(
            actor: actor,
            action: action,
            target: grant.id,
            details: ["client_id": client.id, "scopes": issued.response.scope, "family": issued.records[0].familyID]
        )
        // Written before the answer either way; the group-commit writer shares one transaction among concurrent requests.
        if let auditWriter {
            try await auditWriter.append(record, tenantID: tenantID)
        } else {
            try await audit.append(record, tenantID: tenantID)
        }
    }
}
