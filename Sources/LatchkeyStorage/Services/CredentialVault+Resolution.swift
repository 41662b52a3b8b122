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
        // Every filter names indexed columns of `credentials` through small subqueries (the app's Connections of the
        // integration: UNIQUE (app_id, integration_id); its end user: UNIQUE (app_id, external_id)), so the row is
        // found through `credentials_owner` (connection_id, end_user_id) however many credentials the tenant holds,
        // instead of scanning the tenant's credentials for the joined conditions.
        let app: SQLQueryString =
            resolution.appID.map { "\(bind: $0)" }
            ?? "(SELECT a.id FROM apps a WHERE a.tenant_id = \(bind: resolution.tenantID) AND a.kind = 'console')"
        // The tenant is checked as an expression (`|| ''`): SQLite, which keeps no statistics here, would otherwise
        // walk `credentials_tenant` through every credential of the tenant.
        var scope: SQLQueryString = "\(unsafeRaw: columns) WHERE c.tenant_id || '' = \(bind: resolution.tenantID) AND n.app_id = " + app
        if let credentialID = resolution.credentialID {
            var query = scope + " AND c.id = \(bind: credentialID)"
            if resolution.externalUserID != nil {
                query += " AND (c.end_user_id IS NULL OR c.end_user_id IN (" + endUsers(resolution, app: app) + "))"
            }
            return try await db.raw(query).first()
        }
        scope += " AND i.key = \(bind: resolution.integrationKey)"
        if let connectionID = resolution.connectionID {
            scope += " AND c.connection_id = \(bind: connectionID)"
        } else {
            scope +=
                """
                 AND c.connection_id IN (SELECT n2.id FROM connections n2 JOIN integrations i2 ON i2.id = n2.integration_id \
                WHERE n2.app_id = 
                """ + app + " AND i2.tenant_id = \(bind: resolution.tenantID) AND i2.key = \(bind: resolution.integrationKey))"
        }
        if let externalUserID = resolution.externalUserID {
            // The exact end user id first, then a console user named by email.
            let query =
                scope + " AND c.end_user_id IN (" + endUsers(resolution, app: app) + ")"
                + " ORDER BY CASE WHEN e.external_id = \(bind: externalUserID) THEN 0 ELSE 1 END, c.is_default DESC, c.created_at, c.id LIMIT 1"
            if let row = try await db.raw(query).first() { return row }
        }
        return try await db.raw(scope + " AND c.end_user_id IS NULL ORDER BY c.is_default DESC, c.created_at, c.id LIMIT 1").first()
    }

    /// The ids of the end users of `app` that `resolution.externalUserID` names: the one with exactly that id, and for
    /// the console app also the console user with that email.
    private static func endUsers(_ resolution: Resolution, app: SQLQueryString) -> SQLQueryString {
        let externalUserID = resolution.externalUserID ?? ""
        guard resolution.mayBeEmail else {
            return "SELECT e2.id FROM end_users e2 WHERE e2.app_id = " + app + " AND e2.external_id = \(bind: externalUserID)"
        }
        return "SELECT e2.id FROM end_users e2 WHERE e2.app_id = " + app
            + """
             AND e2.external_id IN (\(bind: externalUserID), (SELECT u.id FROM users u WHERE u.tenant_id = \(bind: resolution.tenantID) \
            AND LOWER(u.email) = \(bind: externalUserID.lowercased()) ORDER BY u.created_at, u.id LIMIT 1))
            """
    }
}
