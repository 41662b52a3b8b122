import Foundation
public import LatchkeyCore
import SQLKit

extension AppService {
    /// The app's OAuth client for the integration `key`; not found when there is none.
    public func config(appID: String, integrationKey: String, tenantID: String) async throws -> AppIntegrationConfig {
        _ = try await app(id: appID, tenantID: tenantID)
        let integration = try await integration(key: integrationKey, tenantID: tenantID)
        guard let (config, _) = try await configs.find(appID: appID, integrationID: integration.id, tenantID: tenantID) else {
            throw LatchkeyError(.notFound, "This app has no OAuth client of its own for \(integrationKey); it uses the integration's.")
        }
        return config
    }

    /// Sets the app's OAuth client for the integration `key`. `clientSecret` `.none` keeps the stored secret,
    /// `.some(nil)` removes it. Returns the config and whether it was created.
    public func putConfig(
        appID: String,
        integrationKey: String,
        tenantID: String,
        clientID: String,
        clientSecret: String??,
        scopes: [String],
        actor: AuditActor
    ) async throws -> (config: AppIntegrationConfig, created: Bool) {
        _ = try await app(id: appID, tenantID: tenantID)
        let integration = try await integration(key: integrationKey, tenantID: tenantID)
        let now = clock.now
        return try await database.transaction { db in
            let existing = try await configs.find(appID: appID, integrationID: integration.id, tenantID: tenantID, on: db)
            let existingID = existing?.0.id
            var config = AppIntegrationConfig(
                id: existingID ?? NewID.make(),
                tenantID: tenantID,
                appID: appID,
                integrationID: integration.id,
                integrationKey: integration.key,
                clientID: clientID,
                hasClientSecret: false,
                scopes: scopes,
                createdAt: existing?.0.createdAt ?? now,
                updatedAt: now
            )
            let sealed: Data?? =
                switch clientSecret {
                case .none: .none
                case .some(.none): .some(nil)
                case .some(.some(let secret)): .some(try keyring.seal(Data(secret.utf8), context: config.clientSecretContext))
                }
            try await configs.upsert(config, sealedSecret: sealed, on: db)
            config.hasClientSecret = sealed.map { $0 != nil } ?? (existing?.1 != nil)
            var details = ["integration": integration.key, "client_id": clientID]
            if case .some(.some(let secret)) = clientSecret { details["client_secret_fp"] = keyring.fingerprint(secret) }
            if case .some(.none) = clientSecret { details["client_secret"] = "removed" }
            try await audit.append(
                AuditRecord(actor: actor, action: "app.config_set", target: appID, service: integration.key, details: details),
                tenantID: tenantID,
                on: db
            )
            return (config, existingID == nil)
        }
    }

    /// Removes the app's OAuth client for `key`; its credentials go back to the integration's client.
    public func deleteConfig(appID: String, integrationKey: String, tenantID: String, actor: AuditActor) async throws {
        _ = try await app(id: appID, tenantID: tenantID)
        let integration = try await integration(key: integrationKey, tenantID: tenantID)
        let deleted = try await database.transaction { db -> Bool in
            guard try await configs.delete(appID: appID, integrationID: integration.id, tenantID: tenantID, on: db) else { return false }
            try await audit.append(
                AuditRecord(actor: actor, action: "app.config_delete", target: appID, service: integration.key),
                tenantID: tenantID,
                on: db
            )
            return true
        }
        guard deleted else {
            throw LatchkeyError(.notFound, "This app has no OAuth client of its own for \(integrationKey).")
        }
    }

    func integration(key: String, tenantID: String) async throws -> Integration {
        guard let integration = try await IntegrationRepository(database: database).find(key: key, tenantID: tenantID) else {
            throw LatchkeyError(.notFound, "There is no integration \(key). GET /api/v1/integrations lists them.")
        }
        return integration
    }
}
