import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// `/api/v1/connect/sessions` (app key): connect sessions for the app's end users, and what became of them. An
/// admin key gets 403 (``AppKeyContext``).
struct ConnectSessionsController {
    let sessions: AppConnectSessions
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AppKeyContext>, recorder: RouteRecorder?) {
        group.route(.post, "connect/sessions", recorder: recorder, use: create)
        group.route(.get, "connect/sessions/:id", recorder: recorder, use: show)
    }

    @Sendable func create(_ request: Request, context: AppKeyContext) async throws -> Response {
        let body = try await JSON.decode(CreateConnectSessionRequest.self, from: request, limit: maxBodySize)
        let new = try body.validated()
        RequestLogNote.current?.note(externalUserID: new.externalUserID, integrationKey: new.integration)
        try await context.authorize(.connect, integration: new.integration, request: request)
        let created = try await sessions.create(new, app: context.app, actor: context.actor(for: request))
        RequestLogNote.current?.note(connectionID: created.session.connectionID)
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

    @Sendable func show(_ request: Request, context: AppKeyContext) async throws -> Response {
        try await context.authorize(.connect, integration: nil, request: request)
        let id = context.parameters.get("id") ?? ""
        let session = try await sessions.session(id: id, app: context.app, actor: context.actor(for: request))
        let key = try await sessions.integrationKey(of: session)
        if let note = RequestLogNote.current {
            let external = try await sessions.store.externalUserID(endUserID: session.endUserID, tenantID: session.tenantID)
            note.note(externalUserID: external, connectionID: session.connectionID, integrationKey: key)
        }
        return try JSON.response(ConnectSessionResponse(session, integration: key, now: sessions.now))
    }
}

/// `POST /api/v1/connect/sessions`.
struct CreateConnectSessionRequest: Decodable, AllowedKeys {
    struct EndUserBody: Decodable {
        var displayName: String?
        var email: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case displayName, email }

        init(from decoder: any Decoder) throws {
            try AnyKey.refuseUnknown(in: decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)), object: "endUser")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
            email = try container.decodeIfPresent(String.self, forKey: .email)
        }
    }

    var externalUserId: String
    var integration: String
    var redirectUrl: String?
    var endUser: EndUserBody?
    var reconnectCredentialId: String?

    static let allowedKeys: Set<String> = ["externalUserId", "integration", "redirectUrl", "endUser", "reconnectCredentialId"]

    func validated() throws -> AppConnectSessions.NewSession {
        guard !externalUserId.isEmpty, externalUserId.unicodeScalars.count <= 255 else {
            throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters")
        }
        guard IntegrationRules.isStoredKey(integration) else {
            throw LatchkeyError.invalidField("integration", "must be an integration key such as slack (letters, digits, - _ .)")
        }
        if let name = endUser?.displayName, let problem = AppRules.nameProblem(name) {
            throw LatchkeyError.invalidField("endUser.displayName", problem)
        }
        if let email = endUser?.email {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
                !email.contains(where: { $0.isWhitespace || $0.isNewline })
            else { throw LatchkeyError.invalidField("endUser.email", "must be an email address such as sarah@example.com") }
        }
        if let id = reconnectCredentialId, UUID(uuidString: id) == nil {
            throw LatchkeyError.invalidField("reconnectCredentialId", "must be a credential id (a UUID)")
        }
        return AppConnectSessions.NewSession(
            externalUserID: externalUserId,
            integration: integration,
            redirectURL: redirectUrl,
            displayName: endUser?.displayName,
            email: endUser?.email,
            reconnectCredentialID: reconnectCredentialId
        )
    }
}

struct ConnectSessionCreatedResponse: Encodable {
    var id: String
    var token: String
    var connectUrl: String
    var expiresAt: Date
}

/// A session as its app reads it: `pending`, `completed`, `expired` or `failed`, with what it produced.
struct ConnectSessionResponse: Encodable {
    var id: String
    var status: String
    var integration: String?
    var connectionId: String
    var credentialId: String?
    var error: String?
    var redirectUrl: String?
    var createdAt: Date
    var expiresAt: Date
    var completedAt: Date?

    init(_ session: AppConnectSession, integration: String?, now: Date) {
        let status = session.reportedStatus(now: now)
        self.id = session.id
        self.status = status.rawValue
        self.integration = integration
        self.connectionId = session.connectionID
        self.credentialId = status == .completed ? session.credentialID : nil
        self.error = status == .failed ? session.error : (status == .expired ? "expired" : nil)
        self.redirectUrl = session.redirectURL
        self.createdAt = session.createdAt
        self.expiresAt = session.expiresAt
        self.completedAt = session.completedAt
    }
}
