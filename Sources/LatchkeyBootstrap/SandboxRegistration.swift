import LatchkeyCore
import LatchkeyStorage

/// The built-in demo provider of `latchkey serve --demo` as an integration: where it lives on this server, the
/// secret its client authenticates with, and the `sandbox` integration pointing the generic `oauth2` provider at it.
/// The provider's pages and endpoints are served by the web layer.
public struct SandboxRegistration: Sendable {
    public static let clientID = "latchkey-sandbox"
    public static let integrationKey = "sandbox"
    /// The sandbox's scopes, in plain words.
    public static let scopes: [String: String] = [
        "profile": "See your sandbox name and e-mail address",
        "items.read": "Read your sandbox to-do items",
        "items.write": "Add to-do items in your sandbox",
    ]

    public let publicURL: String
    public let callbackURL: String
    /// Made at each start; the sandbox is a demo, its state lives in memory.
    public let clientSecret: String
    let clock: any LatchkeyClock

    /// The integration settings that point the generic `oauth2` provider at this sandbox.
    var integrationSettings: [String: String] {
        [
            "authorizationURL": publicURL + "/sandbox/authorize",
            "tokenURL": publicURL + "/sandbox/token",
            "revocationURL": publicURL + "/sandbox/revoke",
            "userInfoURL": publicURL + "/sandbox/userinfo",
            "apiBaseURL": publicURL + "/sandbox/api",
        ]
    }

    /// Creates (or points at this server again) the `sandbox` integration and its Connection for the console app.
    func enable(integrations: IntegrationStore, directory: DirectoryRepository, database: Database, tenant: Tenant) async throws {
        let scopes = ["profile", "items.read"]
        let integration: Integration
        if try await integrations.integrations.find(key: Self.integrationKey, tenantID: tenant.id) != nil {
            integration = try await integrations.update(
                key: Self.integrationKey,
                tenantID: tenant.id,
                changes: .init(clientID: .some(Self.clientID), clientSecret: .some(clientSecret), enabled: true, settings: integrationSettings),
                actor: .system
            )
        } else {
            integration = try await integrations.create(
                .init(
                    key: Self.integrationKey,
                    provider: "sandbox",
                    clientID: Self.clientID,
                    clientSecret: clientSecret,
                    scopes: scopes,
                    settings: integrationSettings
                ),
                tenantID: tenant.id,
                actor: .system
            )
        }
        guard let app = try await directory.consoleApp(tenantID: tenant.id) else { return }
        let now = clock.now
        _ = try await database.write { db in
            try await directory.findOrCreateConnection(app: app, integration: integration, now: now, on: db)
        }
    }
}
