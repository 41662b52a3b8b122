import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// What a person changes on their own connected accounts: a label and which account of a service is used by default
/// (each through the vault update the API's `PATCH /api/v1/credentials/{id}` makes, so it is audited the same way,
/// as the person), and a Disconnect after a confirmation page. Another person's account is not found.
extension ConnectionCenterController {
    /// A label that could not be stored, shown again beside its field with what was typed.
    struct LabelError {
        var credentialID: String
        var value: String
        var message: String
    }

    @Sendable func setLabel(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = (context.parameters.get("id") ?? "").lowercased()
        let label = try await WebForm.read(request).trimmed("label")
        if let problem = ConnectService.labelProblem(label) {
            let credential = try await connect.ownCredential(id, endUser: try await connect.endUser(for: context.user), user: context.user)
            let error = LabelError(credentialID: credential.id, value: label, message: problem)
            return try await page(request, context: context, flash: nil, labelError: error, status: .badRequest)
        }
        let credential = try await connect.relabel(
            credentialID: id,
            label: label.isEmpty ? nil : label,
            user: context.user,
            actor: actor(request, context)
        )
        let account = "\(await serviceName(credential.integrationKey, tenantID: context.tenantID)) account \(Self.accountName(credential))"
        return WebResponse.redirect(
            to: "/connections",
            flash: label.isEmpty ? "The label of your \(account) was removed." : "Your \(account) is now labelled “\(label)”."
        )
    }

    @Sendable func makeDefault(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = (context.parameters.get("id") ?? "").lowercased()
        let credential = try await connect.makeDefault(credentialID: id, user: context.user, actor: actor(request, context))
        let name = await serviceName(credential.integrationKey, tenantID: context.tenantID)
        return WebResponse.redirect(to: "/connections", flash: "Your \(name) account \(Self.accountName(credential)) is now used by default.")
    }

    @Sendable func confirmDisconnect(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = (context.parameters.get("id") ?? "").lowercased()
        let credential = try await connect.ownCredential(id, endUser: try await connect.endUser(for: context.user), user: context.user)
        let (service, account) = (await serviceName(credential.integrationKey, tenantID: context.tenantID), Self.accountName(credential))
        return HTMLPage.render(
            "connection-disconnect",
            title: account.isEmpty ? "Disconnect \(service) account" : "Disconnect \(service) account \(account)",
            context: ["id": credential.id, "service": service, "account": account, "csrf": sessions.csrfToken(for: context.sessionToken)],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    /// Revoked at the provider (best effort) and deleted; the one-time message names the account.
    @Sendable func disconnect(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = (context.parameters.get("id") ?? "").lowercased()
        let credential = try await connect.disconnect(credentialID: id, user: context.user)
        let name = await serviceName(credential.integrationKey, tenantID: context.tenantID)
        let account = Self.accountName(credential)
        return WebResponse.redirect(
            to: "/connections",
            flash: account.isEmpty ? "\(name) account disconnected." : "\(name) account \(account) disconnected."
        )
    }

    /// The account as the provider names it ("octocat"), else the person's label; "" when neither is known.
    static func accountName(_ credential: Credential) -> String {
        credential.providerAccount ?? credential.label ?? ""
    }

    func actor(_ request: Request, _ context: SignedInContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
