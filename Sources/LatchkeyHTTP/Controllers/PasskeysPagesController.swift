import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Settings → Passkeys (`/settings/passkeys`): the person's passkeys with their names and last use; add one (the
/// browser's WebAuthn ceremony, driven by `/assets/passkeys.js`), rename, remove. On the signed-in group, so only a
/// STRONG session may add or remove one; removal goes through `IdentityRepository.delete`, which keeps the last
/// STRONG way to sign in. Adding and removing are audited as `identity.link` / `identity.unlink`.
struct PasskeysPagesController {
    let ceremonies: PasskeyCeremonies
    let identities: IdentityRepository
    let sessions: WebSessions
    let audit: AuditLog
    static let maximumNameLength = 100

    func addRoutes(to group: RouterGroup<SignedInContext>) {
        group.get("settings/passkeys", use: list)
        group.post("settings/passkeys/options", use: options)
        group.post("settings/passkeys", use: register)
        group.post("settings/passkeys/:identityId/rename", use: rename)
        group.get("settings/passkeys/:identityId/remove", use: confirmRemoval)
        group.post("settings/passkeys/:identityId/remove", use: remove)
    }

    @Sendable func list(_ request: Request, context: SignedInContext) async throws -> Response {
        try await page(context, flash: PageFlash.message(request))
    }

    /// The creation options for `navigator.credentials.create()`, as JSON.
    @Sendable func options(_ request: Request, context: SignedInContext) async throws -> Response {
        try JSON.response(try await ceremonies.creationOptions(for: context.user))
    }

    /// The browser's new credential: stored, audited, and the page to go to (with its one-time message) as JSON; a
    /// refusal is a 400 whose `error` the script shows.
    @Sendable func register(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let name = Self.name(form)
        guard name.count <= Self.maximumNameLength else {
            return try Self.refusal("Give the passkey a name of at most \(Self.maximumNameLength) characters.")
        }
        do {
            let passkey = try await ceremonies.register(form, user: context.user, name: name.isEmpty ? "Passkey" : name)
            try await audit.append(
                AuditRecord(
                    actor: actor(request, context),
                    action: "identity.link",
                    target: passkey.identityID,
                    details: ["method": SignInMethod.passkey.rawValue, "provider": "passkey"]
                ),
                tenantID: context.user.tenantID
            )
            var response = try JSON.response(["location": "/settings/passkeys"])
            response.headers[PageFlash.outgoing] =
                "Passkey “\(passkey.name)” added. You can sign in with it.".addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            return response
        } catch let failure as PasskeyCeremonies.Failure {
            return try Self.refusal(failure.message)
        }
    }

    @Sendable func rename(_ request: Request, context: SignedInContext) async throws -> Response {
        let passkey = try await ownPasskey(context)
        let form = try await WebForm.read(request)
        let name = Self.name(form)
        guard !name.isEmpty, name.count <= Self.maximumNameLength else {
            let message = name.isEmpty ? "Enter a name for the passkey." : "Use at most \(Self.maximumNameLength) characters."
            return try await page(context, renameError: (passkey.identityID, name, message), status: .badRequest)
        }
        _ = try await ceremonies.passkeys.rename(identityID: passkey.identityID, userID: context.user.id, tenantID: context.user.tenantID, to: name)
        return WebResponse.redirect(to: "/settings/passkeys", flash: "Passkey renamed to “\(name)”.")
    }

    @Sendable func confirmRemoval(_ request: Request, context: SignedInContext) async throws -> Response {
        let passkey = try await ownPasskey(context)
        return confirmation(passkey, context: context)
    }

    @Sendable func remove(_ request: Request, context: SignedInContext) async throws -> Response {
        let passkey = try await ownPasskey(context)
        let removed: Identity
        do {
            removed = try await identities.delete(id: passkey.identityID, userID: context.user.id, tenantID: context.user.tenantID)
        } catch let error as LatchkeyError where error.code == .conflict {
            return confirmation(passkey, context: context, error: error.message, status: .conflict)
        }
        try await audit.append(
            AuditRecord(
                actor: actor(request, context),
                action: "identity.unlink",
                target: removed.id,
                details: ["method": SignInMethod.passkey.rawValue, "provider": "passkey"]
            ),
            tenantID: context.user.tenantID
        )
        return WebResponse.redirect(
            to: "/settings/passkeys",
            flash: "Passkey “\(passkey.name)” removed. It no longer signs you in; you may also delete it from your device."
        )
    }

    /// The person's passkey named in the path; not found otherwise (someone else's included).
    private func ownPasskey(_ context: SignedInContext) async throws -> Passkey {
        let id = context.parameters.get("identityId") ?? ""
        guard let passkey = try await ceremonies.passkeys.passkey(identityID: id, userID: context.user.id, tenantID: context.user.tenantID)
        else { throw LatchkeyError.notFound("You have no passkey with this id; it may already be removed.") }
        return passkey
    }

    private func page(
        _ context: SignedInContext,
        flash: String? = nil,
        renameError: (id: String, name: String, message: String)? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let csrf = sessions.csrfToken(for: context.sessionToken)
        let passkeys = try await ceremonies.passkeys.passkeys(userID: context.user.id, tenantID: context.user.tenantID)
        let rows: [[String: Any]] = passkeys.map { passkey in
            let error = renameError.flatMap { $0.id == passkey.identityID ? $0 : nil }
            return [
                "id": passkey.identityID, "name": passkey.name, "created": PageDates.minute(passkey.createdAt),
                "lastUsed": passkey.lastUsedAt.map(PageDates.minute) ?? "never", "csrf": csrf,
                "renameValue": error?.name ?? passkey.name, "renameError": error?.message as Any,
            ]
        }
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        policy.ownRequests = true
        return HTMLPage.render(
            "passkeys",
            title: "Passkeys",
            context: [
                "passkeys": rows, "csrf": csrf, "flash": flash as Any, "error": renameError?.message as Any,
                "maximumNameLength": Self.maximumNameLength,
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            policy: policy
        )
    }

    private func confirmation(
        _ passkey: Passkey,
        context: SignedInContext,
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        HTMLPage.render(
            "passkey-remove",
            title: "Remove a passkey",
            context: ["id": passkey.identityID, "name": passkey.name, "csrf": sessions.csrfToken(for: context.sessionToken), "error": error as Any],
            status: status,
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    private static func name(_ form: WebForm) -> String {
        form.trimmed("name").filter { !$0.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) }
    }

    /// A refused ceremony, for the script to show.
    static func refusal(_ message: String, status: HTTPResponse.Status = .badRequest) throws -> Response {
        try JSON.response(["error": message], status: status)
    }

    private func actor(_ request: Request, _ context: SignedInContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
