import Foundation
import LatchkeyCore
public import LatchkeyStorage

extension AuthorizationServer {
    /// `/oauth/revoke` (RFC 7009): revokes a token of the authenticated client (a refresh token with its whole
    /// family). An unknown token, or another client's, is answered the same way and changes nothing.
    public func revoke(token: String, client: OAuthClientRecord, actor: AuditActor) async throws {
        guard !token.isEmpty, token.count <= 200 else { return }
        let key = hash(token, .token)
        guard let (record, grant) = try await tokens.find(hash: key), record.clientID == client.id, record.revokedAt == nil else { return }
        if record.kind == .refresh {
            try await tokens.revokeFamily(record.familyID, now: clock.now)
        } else {
            try await tokens.revoke(hash: key, now: clock.now)
        }
        cache.invalidateAll()
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "oauth.token.revoke",
                target: grant.id,
                details: ["client_id": client.id, "kind": record.kind.rawValue]
            ),
            tenantID: tenantID
        )
    }

    /// `/oauth/introspect` (RFC 7662): what an access or refresh token is, or `active: false`.
    public func introspect(token: String) async throws -> [String: any Sendable] {
        let inactive: [String: any Sendable] = ["active": false]
        guard token.hasPrefix(Self.accessTokenPrefix) || token.hasPrefix(Self.refreshTokenPrefix), token.count <= 200 else { return inactive }
        let now = clock.now
        guard let (record, grant) = try await tokens.find(hash: hash(token, .token)), record.revokedAt == nil, grant.revokedAt == nil,
            record.expiresAt > now, record.kind == .access || record.usedAt == nil
        else { return inactive }
        return [
            "active": true,
            "client_id": record.clientID,
            "scope": record.scopes.joined(separator: " "),
            "sub": record.userID,
            "aud": record.resource,
            "iss": settings.issuer,
            "exp": Int(record.expiresAt.timeIntervalSince1970),
            "iat": Int(record.createdAt.timeIntervalSince1970),
            "token_type": record.kind == .access ? "Bearer" : "refresh_token",
            "services": grant.services,
        ]
    }

    // MARK: Static clients (the admin API)

    /// The clients an administrator registered.
    public func staticClients() async throws -> [OAuthClientRecord] {
        try await clients.listStatic(tenantID: tenantID)
    }

    /// Deletes a client an administrator registered, revoking its grants and tokens; false when there is none.
    public func deleteStaticClient(_ id: String, actor: AuditActor) async throws -> Bool {
        defer { clientCache.invalidateAll() }
        guard try await clients.deleteStatic(id: id, tenantID: tenantID, now: clock.now) else { return false }
        cache.invalidateAll()
        try await audit.append(AuditRecord(actor: actor, action: "oauth.client.delete", target: id), tenantID: tenantID)
        return true
    }

    // MARK: Grants (Settings → Authorized apps)

    /// The person's live grants, newest first.
    public func grants(of userID: String) async throws -> [OAuthGrantRecord] {
        try await grants.list(userID: userID)
    }

    /// Revokes one of the person's grants and its tokens; false when they have no such grant.
    public func revokeGrant(_ id: String, userID: String, actor: AuditActor) async throws -> Bool {
        guard try await grants.revoke(id: id, userID: userID, now: clock.now) else { return false }
        cache.invalidateAll()
        try await audit.append(AuditRecord(actor: actor, action: "oauth.grant.revoke", target: id), tenantID: tenantID)
        return true
    }

    /// Changes the services of one of the person's grants; false when they have no such grant.
    public func setServices(_ services: [String], grantID: String, userID: String, actor: AuditActor) async throws -> Bool {
        guard try await grants.setServices(id: grantID, userID: userID, services: services, now: clock.now) else { return false }
        cache.invalidateAll()
        try await audit.append(
            AuditRecord(actor: actor, action: "oauth.grant.update", target: grantID, details: ["services": services.joined(separator: " ")]),
            tenantID: tenantID
        )
        return true
    }

    /// Revokes every grant of the person (sign-out); returns how many.
    @discardableResult
    public func revokeAllGrants(userID: String, actor: AuditActor) async throws -> Int {
        let ids = try await grants.revokeAll(userID: userID, now: clock.now)
        cache.invalidateAll()
        for id in ids {
            try await audit.append(
                AuditRecord(actor: actor, action: "oauth.grant.revoke", target: id, details: ["reason": "sign_out"]),
                tenantID: tenantID
            )
        }
        return ids.count
    }
}
