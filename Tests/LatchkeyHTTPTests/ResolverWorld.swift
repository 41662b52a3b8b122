import Foundation
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// A tenant with its console app and two external apps ("DerekApp" and "OtherApp"), and the one credential resolver
/// of the running application, for tests of resolution below the HTTP layer.
struct ResolverWorld {
    let client: any TestClientProtocol
    let clock: TestClock
    let fixture: TestFixture
    let resolver: CredentialResolver
    let derek: App
    let other: App

    var vault: CredentialVault { fixture.runtime.vault }
    var tenantID: String { fixture.tenantID }

    static func with(
        _ kind: TestDatabases.Kind,
        publicURL: String? = nil,
        _ body: @Sendable (ResolverWorld) async throws -> Void
    ) async throws {
        let clock = TestClock()
        let configure: (inout ServerConfiguration) -> Void = { $0.publicURL = publicURL }
        try await TestApp.with(kind, clock: clock, configure: configure) { client, fixture in
            let runtime = fixture.runtime
            var apps: [App] = []
            for name in ["DerekApp", "OtherApp"] {
                let app = App(id: NewID.make(), tenantID: fixture.tenantID, name: name, kind: .external, createdAt: runtime.clock.now)
                try await runtime.database.write { db in try await runtime.tenants.directory.insertApp(app, on: db) }
                apps.append(app)
            }
            let resolver = runtime.outboundServices(transport: FakeNetwork()).resolver
            try await body(ResolverWorld(client: client, clock: clock, fixture: fixture, resolver: resolver, derek: apps[0], other: apps[1]))
        }
    }

    /// The Connection of `app` for `integration`, created on first use.
    func connection(_ app: App, _ integration: String = "gitlab", tenantID: String? = nil) async throws -> Connection {
        let runtime = fixture.runtime
        let directory = runtime.tenants.directory
        let now = runtime.clock.now
        let tenant = tenantID ?? self.tenantID
        return try await runtime.database.transaction { db in
            let found = try await directory.findOrCreateIntegration(tenantID: tenant, key: integration, now: now, on: db)
            return try await directory.findOrCreateConnection(app: app, integration: found.integration, now: now, on: db)
        }
    }

    /// Stores a credential under `app`'s Connection (the console app's when nil) for `user` (shared when nil).
    @discardableResult
    func store(
        _ app: App?,
        user: String?,
        _ integration: String = "gitlab",
        secret: CredentialSecret,
        type: CredentialType = .oauth2,
        tenantID: String? = nil
    ) async throws -> Credential {
        var connectionID: String?
        if let app { connectionID = try await connection(app, integration, tenantID: tenantID).id }
        return try await vault.create(
            .init(integration: integration, externalUserID: user, connectionID: connectionID, type: type, secret: secret),
            tenantID: tenantID ?? self.tenantID,
            actor: .cli
        )
    }

    /// An OAuth credential whose access token is `token`.
    @discardableResult
    func store(_ app: App?, user: String?, token: String, _ integration: String = "gitlab") async throws -> Credential {
        try await store(app, user: user, integration, secret: CredentialSecret(accessToken: token))
    }

    /// What `app` (the console app when nil) is handed for `query`.
    func token(_ app: App?, _ query: CredentialResolver.Query, tenantID: String? = nil) async throws -> CredentialResolver.Token {
        try await resolver.token(for: query, caller: .init(tenantID: tenantID ?? self.tenantID, appID: app?.id, actor: .cli))
    }

    /// The access token `app` is handed for `query`.
    func accessToken(_ app: App?, _ query: CredentialResolver.Query) async throws -> String? {
        guard case .oauth(let accessToken, _) = try await token(app, query).secret else { return nil }
        return accessToken
    }

    /// The error `app` gets for `query`.
    func error(_ app: App?, _ query: CredentialResolver.Query, tenantID: String? = nil) async throws -> LatchkeyError {
        do {
            _ = try await token(app, query, tenantID: tenantID)
        } catch let error as LatchkeyError {
            return error
        }
        throw TestFailure("expected an error for \(query.integrationKey)")
    }

    /// The tenant's audit events of `action`, newest first.
    func auditEvents(_ action: String) async throws -> [[String: Any]] {
        try await UnreadableCredentialTests.auditEvents(client, fixture, action: action)
    }
}
