import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyGateway

extension AppsPagesController {
    /// The rate limit line of a Connection on the app's page: the limit in force and this window's use.
    func rateRow(_ connection: Connection) async throws -> [String: Any] {
        let limit = try await rateLimits.limit(of: connection)
        let usage = rateLimits.usage(of: connection)
        return [
            "budget": limit.budget, "windowSeconds": limit.windowSeconds,
            "source": limit.source == "connection" ? "set here" : limit.source == "catalog" ? "the service's default" : "the server's default",
            "ownBudget": limit.source == "connection" ? String(limit.budget) : "",
            "used": usage?.used ?? 0, "throttled": usage?.throttled ?? 0, "nearLimit": usage?.nearLimit ?? false,
        ]
    }

    /// Sets the Connection's own rate limit from the form, or removes it when the budget is left empty.
    @Sendable func setRateLimit(_ request: Request, context: AdminPageContext) async throws -> Response {
        let (app, connection) = try await appConnection(context)
        let form = try await WebForm.read(request)
        let budget = form.trimmed("budget")
        do {
            if budget.isEmpty {
                try await rateLimits.remove(connection, actor: actor(request, context))
            } else {
                guard let calls = Int(budget), let window = Int(form.trimmed("windowSeconds")) else {
                    throw LatchkeyError.invalidRequest("Give the calls per window and the window in seconds as whole numbers.")
                }
                try await rateLimits.set(connection, budget: calls, windowSeconds: window, actor: actor(request, context))
            }
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            return try await refused(app, context: context, message: error.message)
        }
        return WebResponse.redirect(to: "/admin/apps/\(app.id)", flash: "Rate limit saved.")
    }
}
