import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Settings › Linked accounts (`/settings/identities`): every way the person signs in or is known — the method, who
/// vouches for it in words, the name or address it goes by (never a secret), the primary one (the oldest STRONG one),
/// when it was added and last used; those an app vouches for (WEAK) say which app. Unlinking one goes through a
/// confirmation page and is refused for the last STRONG one; audited `identity.unlink`. Links lead to the pages that
/// add another way to sign in.
struct IdentitiesSettingsController {
    let identities: IdentityRepository
    let apps: AppRepository
    let integrations: IntegrationRepository
    let sessions: WebSessions
    let audit: AuditLog
    /// The tenant's sign-in providers a person may link (integration key, name), when single sign-on is set up.
    var signInProviders: (@Sendable (_ tenantID: String) async throws -> [(key: String, name: String)])? = nil

    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.get("settings/identities", use: list)
        group.get("settings/identities/:id/unlink", use: confirmUnlink)
        group.post("settings/identities/:id/unlink", use: unlink)
    }

    @Sendable func list(_ request: Request, context: SignedInContext) async throws -> Response {
        try await page(context, flash: PageFlash.message(request))
    }

    @Sendable func confirmUnlink(_ request: Request, context: SignedInContext) async throws -> Response {
        let identity = try await ownIdentity(context)
        let described = try await describe(identity)
        let others = try await identities.identities(userID: context.user.id, tenantID: context.user.tenantID)
            .filter { $0.id != identity.id && $0.strength == .strong }
        return HTMLPage.render(
            "settings-identity-unlink",
            title: "Unlink \(described.method)",
            context: [
                "id": identity.id, "method": described.method, "name": described.name, "source": described.source as Any,
                "isPassword": identity.method == .password,
                "last": (identity.strength == .strong && others.isEmpty ? IdentityRepository.lastWayToSignIn : nil) as Any,
                "csrf": sessions.csrfToken(for: context.sessionToken),
            ],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func unlink(_ request: Request, context: SignedInContext) async throws -> Response {
        let identity = try await ownIdentity(context)
        let removed: Identity
        do {
            removed = try await identities.unlink(
                id: identity.id,
                userID: context.user.id,
                tenantID: context.user.tenantID,
                keepingSession: sessions.hash(context.sessionToken)
            )
        } catch let error as LatchkeyError where error.code == .conflict {
            // The last way to sign in stays; the list says why.
            return try await page(context, error: error.message, status: .conflict)
        }
        let userAgent = request.headers[.userAgent].map { String($0.prefix(256)) }
        try await audit.append(
            AuditRecord(
                actor: AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: userAgent),
                action: "identity.unlink",
                target: removed.id,
                details: ["method": removed.method.rawValue, "provider": String(removed.provider.prefix(200))]
            ),
            tenantID: context.user.tenantID
        )
        let described = try await describe(removed)
        return WebResponse.redirect(to: "/settings/identities", flash: "\(described.method) (\(described.name)) is no longer linked to you.")
    }

    /// The person's identity named in the path; not found for anyone else's.
    private func ownIdentity(_ context: SignedInContext) async throws -> Identity {
        let id = context.parameters.get("id") ?? ""
        guard id.utf8.count <= 100, let identity = try await identities.identity(id: id, tenantID: context.user.tenantID),
            identity.userID == context.user.id
        else {
            throw LatchkeyError.notFound("You have no linked account with this id; it may have been unlinked already.")
        }
        return identity
    }

    private func page(
        _ context: SignedInContext,
        flash: String? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let all = try await identities.identities(userID: context.user.id, tenantID: context.user.tenantID)
        // Oldest first: the first STRONG one is the primary way to sign in.
        let primary = all.first { $0.strength == .strong }?.id
        var rows: [[String: Any]] = []
        for identity in all {
            let described = try await describe(identity)
            rows.append([
                "id": identity.id, "method": described.method, "name": described.name, "source": described.source as Any,
                "primary": identity.id == primary, "weak": identity.strength == .weak, "created": PageDates.minute(identity.createdAt),
                "lastUsed": identity.lastUsedAt.map(PageDates.minute) ?? "never",
            ])
        }
        return HTMLPage.render(
            "settings-identities",
            title: "Linked accounts",
            context: [
                "identities": rows, "flash": flash as Any, "error": error as Any,
                "ssoLinks": try await signInProviders?(context.user.tenantID).map { ["key": $0.key, "name": $0.name] } ?? [],
                "csrf": sessions.csrfToken(for: context.sessionToken),
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    /// An identity in words: the method ("Passkey"), the name it goes by, and who vouches for it when that is not
    /// Latchkey itself ("through id.example.com", "linked through Helpdesk Bot").
    private func describe(_ identity: Identity) async throws -> (method: String, name: String, source: String?) {
        let name = identity.displayName ?? identity.email
        switch identity.method {
        case .password:
            return ("Password", name ?? "your email address", nil)
        case .email:
            return ("Email code", name ?? identity.subject, nil)
        case .passkey:
            return ("Passkey", name ?? "a passkey", nil)
        case .oidc:
            let host = URLComponents(string: identity.provider)?.host ?? identity.provider
            return ("Single sign-on", name ?? identity.subject, "through \(host)")
        case .social:
            let integration = try await integrations.find(key: identity.provider, tenantID: identity.tenantID)
            return ("Social sign-in", name ?? identity.subject, "through \(integration?.displayName ?? identity.provider)")
        case .app:
            var appName: String?
            if let appID = identity.appID { appName = try await apps.find(id: appID, tenantID: identity.tenantID)?.name }
            return ("App account", name ?? identity.subject, "linked through \(appName ?? identity.provider)")
        }
    }
}
