import Foundation
public import LatchkeyCore
import SQLKit

extension CredentialVault {
    /// What `seedEndUsers` writes for each end user.
    public struct SeedPlan: Sendable {
        /// The app whose end users get the credentials (its Connection for the integration is found or made).
        public var app: App
        /// An existing integration of the app's tenant.
        public var integrationKey: String
        /// How many end users: `"\(externalIDPrefix)\(n)"` for n in `0..<count`, each with one OAuth credential.
        public var count: Int
        public var externalIDPrefix: String
        /// The secret of end user n.
        public var secret: @Sendable (Int) -> CredentialSecret
        /// Rows per statement (one transaction per batch).
        public var batchSize: Int

        public init(
            app: App,
            integrationKey: String,
            count: Int,
            externalIDPrefix: String,
            batchSize: Int = 400,
            secret: @escaping @Sendable (Int) -> CredentialSecret
        ) {
            self.app = app
            self.integrationKey = integrationKey
            self.count = count
            self.externalIDPrefix = externalIDPrefix
            self.batchSize = batchSize
            self.secret = secret
        }
    }

    /// Writes many end users with one credential each in large batches: load tests at a million credentials and
    /// demos, where importing one by one would take hours. The rows are the rows `create` writes (sealed the same
    /// way, each its owner's default), without an audit event or webhook per credential: one `credential.seed`
    /// audit event records the whole seed. Refuses a prefix the app already has end users under.
    public func seedEndUsers(_ plan: SeedPlan, actor: AuditActor, progress: @Sendable (Int) -> Void = { _ in }) async throws {
        let tenantID = plan.app.tenantID
        guard plan.count > 0, plan.batchSize > 0 else { throw LatchkeyError.invalidRequest("Nothing to seed.") }
        let now = clock.now
        let connection = try await database.transaction { db -> Connection in
            guard let integration = try await IntegrationRepository(database: database).find(key: plan.integrationKey, tenantID: tenantID, on: db)
            else {
                throw LatchkeyError.notFound("integration")
            }
            let taken =
                try await db.raw(
                    "SELECT COUNT(*) AS n FROM end_users WHERE app_id = \(bind: plan.app.id) AND external_id LIKE \(bind: plan.externalIDPrefix + "%")"
                ).first()?.int("n") ?? 0
            guard taken == 0 else {
                throw LatchkeyError(
                    .conflict,
                    "The app already has end users whose ids start with \(plan.externalIDPrefix); seed under another prefix."
                )
            }
            return try await directory.findOrCreateConnection(app: plan.app, integration: integration, now: now, on: db)
        }
        var start = 0
        while start < plan.count {
            let end = min(start + plan.batchSize, plan.count)
            var endUsers: [EndUser] = []
            var rows: [(credential: Credential, payload: Data)] = []
            for n in start..<end {
                let endUser = EndUser(
                    id: NewID.make(),
                    tenantID: tenantID,
                    appID: plan.app.id,
                    externalID: "\(plan.externalIDPrefix)\(n)",
                    userID: nil,
                    createdAt: now
                )
                let secret = plan.secret(n)
                var credential = Credential(
                    id: NewID.make(),
                    tenantID: tenantID,
                    connectionID: connection.id,
                    endUserID: endUser.id,
                    externalUserID: endUser.externalID,
                    integrationKey: connection.integrationKey,
                    type: .oauth2,
                    status: .active,
                    statusReason: nil,
                    label: nil,
                    isDefault: true,
                    scopes: [],
                    expiresAt: nil,
                    providerAccount: nil,
                    connectionConfig: [:],
                    issuedBy: "import",
                    keyVersion: keyring.activeVersion,
                    version: 1,
                    connectedAt: now,
                    lastRefreshedAt: nil,
                    lastUsedAt: nil,
                    createdAt: now,
                    updatedAt: now,
                    providerAccountID: nil,
                    refreshDueAt: nil
                )
                let payload = try seal(secret, for: &credential)
                endUsers.append(endUser)
                rows.append((credential, payload))
            }
            try await database.transaction { db in
                try await directory.insertEndUsers(endUsers, on: db)
                try await credentials.insertMany(rows, on: db)
            }
            start = end
            progress(start)
        }
        _ = try await audit.append(
            AuditRecord(
                actor: actor,
                action: "credential.seed",
                target: connection.id,
                service: connection.integrationKey,
                details: ["app_id": plan.app.id, "count": String(plan.count), "prefix": plan.externalIDPrefix]
            ),
            tenantID: tenantID
        )
    }
}
