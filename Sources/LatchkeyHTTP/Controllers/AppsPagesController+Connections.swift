import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// The app page's forms for OAuth clients and Connections: set or remove the app's client for an integration, add a
/// Connection, and give a Connection its shared credential by OAuth (*Connect shared account*) or by import.
extension AppsPagesController {
    @Sendable func putConfig(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        let key = try Self.integrationKey(context)
        let form = try await WebForm.read(request)
        let clientID = form.trimmed("clientId")
        let secret = form["clientSecret"] ?? ""
        let scopes = form.trimmed("scopes").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        var problem: String?
        if clientID.isEmpty || clientID.count > 512 || clientID.contains(where: \.isNewline) {
            problem = "Client id must be one line of 1 to 512 characters."
        } else if secret.count > 4096 || secret.contains(where: \.isNewline) {
            problem = "Client secret must be one line of at most 4096 characters."
        } else if scopes.count > 100 || scopes.contains(where: { $0.count > 256 }) {
            problem = "Scopes must be at most 100, each up to 256 characters."
        }
        if let problem {
            return try await detailPage(app, context: context, form: AppPageForm(app), flash: nil, error: problem, cursor: nil, status: .badRequest)
        }
        let clientSecret: String?? = form["clearSecret"] == "yes" ? .some(nil) : (secret.isEmpty ? .none : .some(secret))
        _ = try await apps.putConfig(
            appID: app.id,
            integrationKey: key,
            tenantID: context.tenantID,
            clientID: clientID,
            clientSecret: clientSecret,
            scopes: scopes,
            actor: actor(request, context)
        )
        return WebResponse.redirect(to: "/admin/apps/\(app.id)", flash: "OAuth client for \(key) saved.")
    }

    @Sendable func deleteConfig(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        let key = try Self.integrationKey(context)
        try await apps.deleteConfig(appID: app.id, integrationKey: key, tenantID: context.tenantID, actor: actor(request, context))
        return WebResponse.redirect(to: "/admin/apps/\(app.id)", flash: "\(key) now uses the integration's OAuth client.")
    }

    @Sendable func addConnection(_ request: Request, context: AdminPageContext) async throws -> Response {
        let app = try await app(context)
        let key = try await WebForm.read(request).trimmed("integration")
        guard IntegrationRules.isStoredKey(key),
            let integration = try await connect.integrations.integrations.find(key: key, tenantID: context.tenantID)
        else {
            return try await refused(app, context: context, message: "Choose one of the tenant's integrations.")
        }
        let now = clock.now
        let connection = try await database.write { db in
            try await vault.directory.findOrCreateConnection(app: app, integration: integration, now: now, on: db)
        }
        try await vault.audit(
            AuditRecord(
                actor: actor(request, context),
                action: "connection.create",
                target: connection.id,
                service: key,
                details: ["app_id": app.id]
            ),
            tenantID: context.tenantID
        )
        return WebResponse.redirect(to: "/admin/apps/\(app.id)", flash: "Connection added.")
    }

    /// Off to the provider to sign in with the account whose tokens every end user without their own will use.
    @Sendable func connectShared(_ request: Request, context: AdminPageContext) async throws -> Response {
        let (app, connection) = try await appConnection(context)
        do {
            guard
                case .redirect(let url, let service) = try await connect.startShared(
                    user: context.user,
                    connection: connection,
                    browserID: context.browserID
                )
            else { throw LatchkeyError.invalidRequest("This service cannot be connected by signing in. Import its token instead.") }
            if let formAction = connect.formActionSource(for: service), formAction.allows(url) {
                return WebResponse.redirect(to: url.absoluteString)
            }
            return HTMLPage.render(
                "connect-continue",
                title: "Continue to sign in",
                context: ["url": url.absoluteString],
                chrome: PageChrome(context, sessions: sessions),
                refresh: url
            )
        } catch let error as LatchkeyError where error.code == .invalidRequest || error.code == .unavailable || error.code == .notFound {
            return try await refused(app, context: context, message: error.message)
        } catch let failure as ConnectFailure {
            return try await refused(app, context: context, message: failure.message)
        }
    }

    /// Stores an API key or bearer token as the Connection's shared credential, through the vault's import path.
    @Sendable func importShared(_ request: Request, context: AdminPageContext) async throws -> Response {
        let (app, connection) = try await appConnection(context)
        let form = try await WebForm.read(request)
        let secret = form["secret"] ?? ""
        let label = form.trimmed("label")
        let kind = form.trimmed("type")
        guard kind == "api_key" || kind == "bearer", !secret.isEmpty, !secret.contains(where: \.isNewline) else {
            return try await refused(app, context: context, message: "Choose API key or bearer token, and paste the key or token on one line.")
        }
        let body = CreateCredentialRequest(
            integration: connection.integrationKey,
            connectionId: connection.id,
            type: kind == "bearer" ? CredentialType.oauth2.rawValue : CredentialType.apiKey.rawValue,
            accessToken: kind == "bearer" ? secret : nil,
            tokenType: kind == "bearer" ? "Bearer" : nil,
            apiKey: kind == "api_key" ? secret : nil,
            label: label.isEmpty ? "Shared \(connection.integrationKey) credential" : label
        )
        do {
            _ = try await vault.create(try body.validated(), tenantID: context.tenantID, actor: actor(request, context))
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            return try await refused(app, context: context, message: error.message)
        }
        return WebResponse.redirect(to: "/admin/apps/\(app.id)", flash: "Shared credential imported.")
    }

    /// The app of the path and its Connection `:connection`; not found when the Connection is another app's.
    func appConnection(_ context: AdminPageContext) async throws -> (App, Connection) {
        let app = try await app(context)
        let id = try PathID.parse(context, "connection", what: "connection")
        guard let connection = try await vault.directory.connection(id: id, tenantID: context.tenantID), connection.appID == app.id else {
            throw LatchkeyError.notFound("connection")
        }
        return (app, connection)
    }

    static func integrationKey(_ context: AdminPageContext) throws -> String {
        guard let key = context.parameters.get("key"), IntegrationRules.isStoredKey(key) else {
            throw LatchkeyError.invalidField("integration", "is not an integration key")
        }
        return key
    }

    /// The app's page again, with `message` on it and nothing changed (400).
    func refused(_ app: App, context: AdminPageContext, message: String) async throws -> Response {
        try await detailPage(app, context: context, form: AppPageForm(app), flash: nil, error: message, cursor: nil, status: .badRequest)
    }
}
