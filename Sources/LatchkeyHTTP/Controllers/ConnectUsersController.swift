import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyLifecycle
import LatchkeyStorage

/// `/api/v1/connect/users/{externalUserId}/connections` (app key): an end user's connections to the app, with
/// their status and health (how an app learns a person must reconnect), disconnecting one, and a reconnect session.
struct ConnectUsersController {
    let sessions: AppConnectSessions
    let apps: AppService
    let vault: CredentialVault
    let health: HealthMonitor
    let maxBodySize: Int
    /// Revokes at the provider (best effort) and deletes.
    let revokeAndDelete: AppService.RevokeAndDelete
    /// The synced reference data of the person's credentials (`…/data/{dataset}`).
    let sync: ConnectUserData

    func addRoutes(to group: RouterGroup<AppKeyContext>, recorder: RouteRecorder?) {
        group.route(.get, "connect/users/:externalUserId/connections", recorder: recorder, use: list)
        group.route(.delete, "connect/users/:externalUserId/connections/:connectionId", recorder: recorder, use: delete)
        group.route(.post, "connect/users/:externalUserId/connections/:connectionId/reconnect", recorder: recorder, use: reconnect)
        group.route(.get, "connect/users/:externalUserId/connections/:connectionId/data/:dataset", recorder: recorder, use: data)
    }

    struct CredentialItem: Encodable {
        var id: String
        var status: CredentialStatus
        var statusReason: String?
        var providerAccount: String?
        var isDefault: Bool
        var connectedAt: Date
        var expiresAt: Date?
    }

    struct ConnectionItem: Encodable {
        var id: String
        var integration: String
        /// `connected`, or `needs_reauth` / `expired` / `revoked` when no credential of the person works.
        var status: String
        var needsReconnect: Bool
        /// The Connection's health across everyone (DESIGN §2): `healthy`, `degraded` or `unhealthy`.
        var health: String
        var healthReasons: [String]
        var credentials: [CredentialItem]
    }

    @Sendable func list(_ request: Request, context: AppKeyContext) async throws -> Response {
        try await context.authorize(.connect, integration: nil, request: request)
        let external = try Self.externalUserID(context)
        RequestLogNote.current?.note(externalUserID: external)
        guard let endUser = try await apps.endUsers.find(appID: context.app.id, externalID: external, tenantID: context.tenantID) else {
            return try JSON.response(ListEnvelope(items: [ConnectionItem](), nextCursor: nil))
        }
        var items: [ConnectionItem] = []
        for connection in try await vault.directory.connections(tenantID: context.tenantID) where connection.appID == context.app.id {
            let mine = try await credentials(of: endUser, on: connection.id, tenantID: context.tenantID)
            guard !mine.isEmpty else { continue }
            let state = try await health.health(of: connection)
            let working = mine.contains { $0.status == .active }
            let worst = mine.first { $0.status == .needsReauth } ?? mine.first { $0.status == .expired } ?? mine.first
            items.append(
                ConnectionItem(
                    id: connection.id,
                    integration: connection.integrationKey,
                    status: working ? "connected" : (worst?.status.rawValue ?? "connected"),
                    needsReconnect: !working,
                    health: state.state.rawValue,
                    healthReasons: state.reasons,
                    credentials: mine.map {
                        CredentialItem(
                            id: $0.id,
                            status: $0.status,
                            statusReason: $0.statusReason,
                            providerAccount: $0.providerAccount,
                            isDefault: $0.isDefault,
                            connectedAt: $0.connectedAt,
                            expiresAt: $0.expiresAt
                        )
                    }
                )
            )
        }
        return try JSON.response(ListEnvelope(items: items, nextCursor: nil))
    }

    @Sendable func delete(_ request: Request, context: AppKeyContext) async throws -> Response {
        let (connection, mine) = try await target(request, context: context)
        try await context.authorize(.connect, integration: connection.integrationKey, request: request)
        for credential in mine { try await revokeAndDelete(credential, context.actor(for: request)) }
        return Response(status: .noContent)
    }

    struct ReconnectRequest: Decodable, AllowedKeys {
        var redirectUrl: String?
        static let allowedKeys: Set<String> = ["redirectUrl"]
    }

    @Sendable func reconnect(_ request: Request, context: AppKeyContext) async throws -> Response {
        let (connection, mine) = try await target(request, context: context)
        try await context.authorize(.connect, integration: connection.integrationKey, request: request)
        let hasBody = (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0 || request.headers[.transferEncoding] != nil
        let body = hasBody ? try await JSON.decode(ReconnectRequest.self, from: request, limit: maxBodySize) : ReconnectRequest(redirectUrl: nil)
        let credential = mine.first { $0.isDefault } ?? mine[0]
        let new = AppConnectSessions.NewSession(
            externalUserID: try Self.externalUserID(context),
            integration: connection.integrationKey,
            redirectURL: body.redirectUrl,
            reconnectCredentialID: credential.id
        )
        let created = try await sessions.create(new, app: context.app, actor: context.actor(for: request))
        return try JSON.response(
            ConnectSessionCreatedResponse(
                id: created.session.id,
                token: created.token,
                connectUrl: created.connectURL,
                expiresAt: created.session.expiresAt
            ),
            status: .created,
            headers: [.location: "/api/v1/connect/sessions/\(created.session.id)"]
        )
    }

    /// The app's Connection named in the path with the person's credentials on it; another app's connection, an
    /// unknown person or one with nothing there answers 404 (a probe of another app's connection is audited).
    func target(_ request: Request, context: AppKeyContext) async throws -> (Connection, [Credential]) {
        let external = try Self.externalUserID(context)
        RequestLogNote.current?.note(externalUserID: external)
        let id = (context.parameters.get("connectionId") ?? "").lowercased()
        guard UUID(uuidString: id) != nil, let connection = try await vault.directory.connection(id: id, tenantID: context.tenantID),
            connection.appID == context.app.id
        else {
            try await apps.recordDenied(app: context.app, operation: .connect, integration: nil, actor: context.actor(for: request))
            throw LatchkeyError.notFound("connection")
        }
        RequestLogNote.current?.note(connectionID: connection.id, integrationKey: connection.integrationKey)
        guard let endUser = try await apps.endUsers.find(appID: context.app.id, externalID: external, tenantID: context.tenantID) else {
            throw LatchkeyError(.notFound, "This app has no end user with that externalUserId.")
        }
        let mine = try await credentials(of: endUser, on: connection.id, tenantID: context.tenantID)
        guard !mine.isEmpty else { throw LatchkeyError(.notFound, "This person has nothing connected on that connection.") }
        return (connection, mine)
    }

    func credentials(of endUser: EndUser, on connectionID: String, tenantID: String) async throws -> [Credential] {
        try await vault.list(tenantID: tenantID, filter: CredentialFilter(connectionID: connectionID, limit: 200)).items.filter {
            $0.endUserID == endUser.id
        }
    }

    /// `externalUserId` from the path: any 1 to 255 characters (percent-encoded in the URL).
    static func externalUserID(_ context: AppKeyContext) throws -> String {
        guard let raw = context.parameters.get("externalUserId"), let decoded = raw.removingPercentEncoding, !decoded.isEmpty,
            decoded.unicodeScalars.count <= 255
        else { throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters") }
        return decoded
    }
}
