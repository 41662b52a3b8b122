import Foundation
public import LatchkeyCore
public import LatchkeyStorage

/// Turns what an administrator sent (a scope name and the integration key or app id it needs) into a scope, checking
/// that the integration or app exists in the tenant.
public struct IncidentScopes: Sendable {
    public let integrations: IntegrationRepository
    public let apps: AppRepository

    public init(integrations: IntegrationRepository, apps: AppRepository) {
        self.integrations = integrations
        self.apps = apps
    }

    /// `kind` is `integration`, `app` or `tenant`; a field another scope needs is refused, so nothing is guessed.
    public func scope(_ kind: String, integration: String?, app: String?, tenantID: String) async throws -> IncidentScope {
        switch kind {
        case "integration":
            guard app == nil else { throw LatchkeyError.invalidField("app", "is only for the app scope") }
            return .integration(try await integrationKey(integration, tenantID: tenantID))
        case "app":
            guard integration == nil else { throw LatchkeyError.invalidField("integration", "is only for the integration scope") }
            guard let app, !app.isEmpty else { throw LatchkeyError.invalidField("app", "is required for the app scope (an app id)") }
            guard let uuid = UUID(uuidString: app) else { throw LatchkeyError.invalidField("app", "must be an app id (a UUID)") }
            guard let found = try await apps.find(id: uuid.uuidString.lowercased(), tenantID: tenantID) else {
                throw LatchkeyError.invalidField("app", "is not an app of this tenant")
            }
            return .app(found.id)
        case "tenant":
            if integration != nil { throw LatchkeyError.invalidField("integration", "is only for the integration scope") }
            if app != nil { throw LatchkeyError.invalidField("app", "is only for the app scope") }
            return .tenant
        default:
            throw LatchkeyError.invalidField("scope", "must be integration, app or tenant")
        }
    }

    /// The key of an integration of the tenant; refused (400, field `integration`) otherwise.
    public func integrationKey(_ key: String?, tenantID: String) async throws -> String {
        guard let key, !key.isEmpty else { throw LatchkeyError.invalidField("integration", "is required (an integration key)") }
        guard key.count <= 100, let found = try await integrations.find(key: key, tenantID: tenantID) else {
            throw LatchkeyError.invalidField("integration", "is not an integration of this tenant")
        }
        return found.key
    }
}
