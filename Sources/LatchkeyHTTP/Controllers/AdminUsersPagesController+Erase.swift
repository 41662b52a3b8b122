import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import NIOCore

/// What the users pages need to export and erase a person's data.
struct PersonErasurePages {
    let apps: AppService
    let records: PersonRecords
    let revokeAndDelete: AppService.RevokeAndDelete
    let clock: any LatchkeyClock
}

/// `/admin/users/{id}/export` (the person's data as a JSON download) and `/admin/users/{id}/erase` (after the
/// administrator typed the person's email): the API's `GET /api/v1/users/{id}/export` and `DELETE /api/v1/users/{id}`
/// in the console. Nobody erases themselves, and the last administrator stays.
extension AdminUsersPagesController {
    func addErasureRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/users/:id/export", use: export)
        group.get("admin/users/:id/erase", use: confirmErase)
        group.post("admin/users/:id/erase", use: erase)
    }

    @Sendable func export(_ request: Request, context: AdminPageContext) async throws -> Response {
        guard let erasure else { throw LatchkeyError.notFound("page") }
        let user = try await target(context)
        let export = try await UsersController.export(userID: user.id, tenantID: context.tenantID, records: erasure.records, now: erasure.clock.now)
        try await erasure.apps.recordExport(action: "user.export", personID: user.id, tenantID: context.tenantID, actor: actor(request, context))
        var response = try JSON.response(export)
        response.headers[.contentDisposition] = "attachment; filename=\"latchkey-user-\(user.id).json\""
        return response
    }

    @Sendable func confirmErase(_ request: Request, context: AdminPageContext) async throws -> Response {
        let user = try await target(context)
        if let refusal = try await erasureRefusal(user, context) {
            return try await userPage(context, user, eraseError: refusal, status: .badRequest)
        }
        return erasePage(user, context, confirmError: nil)
    }

    @Sendable func erase(_ request: Request, context: AdminPageContext) async throws -> Response {
        guard let erasure else { throw LatchkeyError.notFound("page") }
        let user = try await target(context)
        if let refusal = try await erasureRefusal(user, context) {
            return try await userPage(context, user, eraseError: refusal, status: .badRequest)
        }
        let form = try await WebForm.read(request)
        guard form.trimmed("confirm").lowercased() == user.email else {
            return erasePage(user, context, confirmError: "Type \(user.email) exactly to confirm; nothing was erased.", status: .badRequest)
        }
        do {
            _ = try await erasure.apps.eraseUser(
                userID: user.id,
                tenantID: context.tenantID,
                actor: actor(request, context),
                revokeAndDelete: erasure.revokeAndDelete
            )
        } catch let error as LatchkeyError where error.code == .conflict {
            return try await userPage(context, user, eraseError: error.message, status: .badRequest)
        }
        return WebResponse.redirect(to: "/admin/users", flash: "\(user.email) was erased, with every account they connected.")
    }

    private func erasureRefusal(_ user: User, _ context: AdminPageContext) async throws -> String? {
        if user.id == context.user.id { return "You cannot erase yourself. Ask another administrator to do it." }
        return try await removalRefusal(user, context).map { $0.replacingOccurrences(of: "cannot be removed", with: "cannot be erased") }
    }

    private func erasePage(_ user: User, _ context: AdminPageContext, confirmError: String?, status: HTTPResponse.Status = .ok) -> Response {
        HTMLPage.render(
            "admin-user-erase",
            title: "Erase \(user.email)",
            context: [
                "id": user.id, "email": user.email, "name": user.displayName, "csrf": sessions.csrfToken(for: context.sessionToken),
                "confirmError": confirmError as Any,
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions)
        )
    }
}
