import Foundation
public import LatchkeyCore
public import LatchkeyStorage
public import Logging

/// The OAuth 2.1 authorization server of the MCP endpoint: clients (dynamic, static, metadata documents),
/// authorization codes, access and refresh tokens, grants. Secrets (client secrets, codes, tokens) are kept only
/// as HMACs under keys derived from the keyring.
public struct AuthorizationServer: Sendable {
    public let settings: AuthServerSettings
    /// The tenant whose people sign in and whose clients register.
    public let tenantID: String
    let keyring: Keyring
    let clients: OAuthClientRepository
    let grants: OAuthGrantRepository
    let tokens: OAuthTokenRepository
    let audit: AuditLog
    /// Appends the token endpoint's events in group commits (the one writer of the process, shared with the token
    /// route); `audit` directly when nil.
    let auditWriter: AuditWriter?
    let clock: any LatchkeyClock
    let logger: Logger
    let documents: (any ClientMetadataDocumentSource)?
    let cache = AccessTokenCache()
    let clientCache = ClientCache()
    let purges = PurgeSchedule()

    public static let accessTokenPrefix = "lk_at_"
    public static let refreshTokenPrefix = "lk_rt_"
    static let codePrefix = "lk_ac_"
    static let clientSecretPrefix = "lk_ocs_"

    /// - Parameters:
    ///   - tenantID: the tenant whose people sign in and whose clients register.
    ///   - documents: where Client ID Metadata Documents come from; without it an URL `client_id` is unknown.
    ///   - auditWriter: the process's group-commit audit writer, for the events of every token request.
    public init(
        settings: AuthServerSettings,
        tenantID: String,
        database: Database,
        keyring: Keyring,
        audit: AuditLog,
        clock: any LatchkeyClock,
        logger: Logger,
        documents: (any ClientMetadataDocumentSource)? = nil,
        auditWriter: AuditWriter? = nil
    ) {
        self.settings = settings
        self.tenantID = tenantID
        self.keyring = keyring
        self.clients = OAuthClientRepository(database: database)
        self.grants = OAuthGrantRepository(database: database)
        self.tokens = OAuthTokenRepository(database: database)
        self.audit = audit
        self.clock = clock
        self.logger = logger
        self.documents = documents
        self.auditWriter = auditWriter
    }

    /// The RFC 8414 document.
    public var metadata: AuthorizationServerMetadata { AuthorizationServerMetadata(settings: settings) }
    /// The RFC 9728 document of the MCP endpoint.
    public var resourceMetadata: ProtectedResourceMetadata { ProtectedResourceMetadata(settings: settings) }

    // MARK: Clients

    /// A registration (RFC 7591): the response fields, with the client secret shown this once.
    public struct Registration: Sendable, Equatable {
        public var client: OAuthClientRecord
        public var clientSecret: String?
    }

    /// Registers a client: dynamically (`/oauth/register`) or by an administrator (`kind: .static`).
    public func register(
        _ request: ClientRegistrationRequest,
        kind: OAuthClientRecord.Kind = .dynamic,
        actor: AuditActor
    ) async throws -> Registration {
        let valid = try request.validated()
        if kind == .dynamic, purges.isDue(now: clock.now) {
            let purged = try await purgeUnusedClients()
            if purged > 0 { logger.info("unused client registrations deleted", metadata: ["count": "\(purged)"]) }
        }
        let secret = valid.isConfidential ? SecureRandom.token(prefix: Self.clientSecretPrefix) : nil
        let client = OAuthClientRecord(
            id: (kind == .static ? "lk_sc_" : "lk_dc_") + SecureRandom.token(byteCount: 18),
            tenantID: tenantID,
            kind: kind,
            name: valid.clientName,
            clientURI: valid.clientURI,
            logoURI: valid.logoURI,
            redirectURIs: valid.redirectURIs,
            authMethod: valid.authMethod,
            applicationType: valid.applicationType,
            secretHash: secret.map { hash($0, .clientSecret) },
            secretExpiresAt: nil,
            createdAt: clock.now
        )
        try await clients.insert(client)
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "oauth.client.register",
                target: client.id,
                details: ["kind": kind.rawValue, "auth_method": client.authMethod, "name": client.name ?? ""]
            ),
            tenantID: tenantID
        )
        return Registration(client: client, clientSecret: secret)
    }

    /// The client with this id: a registered one, or one described by its metadata document (an https URL, or http on
    /// loopback when private networks are allowed). Nil when unknown; throws when its document cannot be used.
    public func client(id: String) async throws -> OAuthClientRecord? {
        guard !id.isEmpty, id.count <= RedirectURIRules.maxLength else { return nil }
        if isDocumentURL(id) {
            guard let documents else { return nil }
            let document = try await documents.document(for: id)
            return OAuthClientRecord(
                id: document.clientID,
                tenantID: tenantID,
                kind: .document,
                name: document.clientName,
                clientURI: document.clientURI,
                logoURI: document.logoURI,
                redirectURIs: document.redirectURIs,
                authMethod: "none",
                applicationType: "web",
                secretHash: nil,
                secretExpiresAt: nil,
                createdAt: clock.now
            )
        }
        let now = clock.now
        if let cached = clientCache.get(id, now: now) { return cached }
        guard let client = try await clients.find(id: id), client.tenantID == tenantID else { return nil }
        clientCache.put(client, now: now)
        return client
    }

    func isDocumentURL(_ id: String) -> Bool {
        guard let components = URLComponents(string: id), let host = components.host, !host.isEmpty else { return false }
        if components.scheme == "https" { return true }
        return components.scheme == "http" && settings.allowPrivateNetwork && RedirectURIRules.isLoopback(host: host)
    }

    /// Deletes dynamic registrations unused for `unusedClientLifetime` that hold no live grant.
    @discardableResult
    public func purgeUnusedClients() async throws -> Int {
        defer { clientCache.invalidateAll() }
        return try await clients.purgeUnused(before: clock.now.addingTimeInterval(-settings.unusedClientLifetime))
    }

    // MARK: Secrets

    enum SecretKind: String {
        case clientSecret = "oauth-client-secret"
        case code = "oauth-code"
        case token = "oauth-token"
    }

    func hash(_ secret: String, _ kind: SecretKind) -> String { keyring.mac(secret, purpose: kind.rawValue) }

    // MARK: Verification

    /// The access token's rights, or nil when it is unknown, expired or revoked (or its grant is). Records the
    /// grant's last use, at most once a minute per grant.
    public func verifyAccessToken(_ token: String) async throws -> VerifiedAccessToken? {
        guard token.hasPrefix(Self.accessTokenPrefix), token.count <= 200 else { return nil }
        let now = clock.now
        let key = hash(token, .token)
        if let cached = cache.get(key, now: now) { return cached }
        guard let (record, grant) = try await tokens.find(hash: key), record.kind == .access, record.revokedAt == nil,
            grant.revokedAt == nil, record.expiresAt > now
        else { return nil }
        let verified = VerifiedAccessToken(
            tenantID: record.tenantID,
            userID: record.userID,
            clientID: record.clientID,
            grantID: record.grantID,
            scopes: record.scopes,
            services: grant.services,
            resource: record.resource,
            expiresAt: record.expiresAt
        )
        cache.put(key, verified, now: now)
        if cache.shouldTouch(grantID: grant.id, lastUsed: grant.lastUsedAt, now: now) {
            try await grants.touch(id: grant.id, at: now)
        }
        return verified
    }
}
