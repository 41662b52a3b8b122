import SQLKit

extension CredentialVault {
    /// What a caller asks the token path to resolve (DESIGN §2, "Credential resolution"): always within one tenant
    /// and one app (nil: the tenant's console app, for which an admin key acts), for one integration, optionally
    /// naming one credential, one Connection and one end user. Also the cache key of the answer, so one app's
    /// answer is never another's.
    public struct Resolution: Sendable, Hashable {
        public var tenantID: String
        /// The caller's app; nil for the tenant's console app.
        public var appID: String?
        public var integrationKey: String
        public var credentialID: String?
        public var connectionID: String?
        public var externalUserID: String?

        public init(
            tenantID: String,
            appID: String?,
            integrationKey: String,
            credentialID: String? = nil,
            connectionID: String? = nil,
            externalUserID: String? = nil
        ) {
            self.tenantID = tenantID
            self.appID = appID
            self.integrationKey = integrationKey
            self.credentialID = credentialID
            self.connectionID = connectionID
            self.externalUserID = externalUserID
        }

        /// Whether `externalUserID` may also name a console user by email (the console app's end users are its
        /// signed-in users, known by their user id).
        var mayBeEmail: Bool { appID == nil && externalUserID?.contains("@") == true }
    }

    /// The credential `resolution` names, with the sealed row for `openForToken`; nil when nothing matches. One
    /// resolution, and on PostgreSQL one version read, for the whole token call; served from `CredentialCache`.
    ///
    /// - A credential id: that credential, when it is under the caller's app and, when an end user is named, that
    ///   user's or shared (its integration is for the caller to check).
    /// - Otherwise, within the caller's app's Connection for the integration (or the Connection named, when it is
    ///   that one): the named end user's default credential, else their oldest; else the shared credential, the
    ///   default first, then the oldest.
    public func rowForToken(_ resolution: Resolution) async throws -> TokenRow? {
        try await cachedRow(.resolution(resolution), actor: .system).map { TokenRow(stored: $0.stored, cached: $0.cached) }
    }

    /// The row `resolution` names (see `rowForToken(_:)`). `columns` selects from `credentials c` joined with
    /// `connections n`, `integrations i` and `end_users e`.
    static func resolvedRow(columns: String, _ resolution: Resolution, on db: any SQLDatabase) async throws -> (any SQLRow)? {
        var scope: SQLQueryString
        if let appID = resolution.appID {
            scope = "\(unsafeRaw: columns) WHERE c.tenant_id = \(bind: resolution.tenantID) AND n.app_id = \(bind: appID)"
        } else {
            scope = "\(unsafeRaw: columns) JOIN apps a ON a.id = n.app_id WHERE c.tenant_id = \(bind: resolution.tenantID) AND a.kind = 'console'"
        }
        if let credentialID = resolution.credentialID {
            var query = scope + " AND c.id = \(bind: credentialID)"
            if resolution.externalUserID != nil {
                query += " AND (c.end_user_id IS NULL OR " + endUserMatch(resolution) + ")"
            }
            return try await db.raw(query).first()
        }
        scope += " AND i.key = \(bind: resolution.integrationKey)"
        if let connectionID = resolution.connectionID {
            scope += " AND c.connection_id = \(bind: connectionID)"
        }
        if let externalUserID = resolution.externalUserID {
            // The exact end user id first, then a console user named by email.
            let query =
                scope + " AND " + endUserMatch(resolution)
                + " ORDER BY CASE WHEN e.external_id = \(bind: externalUserID) THEN 0 ELSE 1 END, c.is_default DESC, c.created_at, c.id LIMIT 1"
            if let row = try await db.raw(query).first() { return row }
        }
        return try await db.raw(scope + " AND c.end_user_id IS NULL ORDER BY c.is_default DESC, c.created_at, c.id LIMIT 1").first()
    }

    /// The condition that `e` is the end user `resolution` names: by their id in the app, or, for the console app,
    /// by the email of the console user they are.
    private static func endUserMatch(_ resolution: Resolution) -> SQLQueryString {
        let externalUserID = resolution.externalUserID ?? ""
        guard resolution.mayBeEmail else { return "e.external_id = \(bind: externalUserID)" }
        return """
            e.external_id IN (\(bind: externalUserID), (SELECT u.id FROM users u WHERE u.tenant_id = \(bind: resolution.tenantID) \
            AND LOWER(u.email) = \(bind: externalUserID.lowercased()) ORDER BY u.created_at, u.id LIMIT 1))
            """
    }
}
