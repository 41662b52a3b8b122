import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// `/admin/webhooks`: the tenant's webhook in the console — set or change the endpoint URL, rotate its signing secret
/// (shown once, with a copy button), remove it, see the recent deliveries with a *Replay* button each, and send a
/// harmless test event. The same outbox calls as `/api/v1/webhooks`, so the URL rules, the address policy and the
/// audit events are the API's.
struct AdminWebhooksPagesController {
    let outbox: WebhookOutbox
    let allowPrivateNetwork: Bool
    let sessions: WebSessions
    /// How many of the newest deliveries the page lists.
    static let shownDeliveries = 25

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/webhooks", use: show)
        group.post("admin/webhooks", use: setURL)
        group.get("admin/webhooks/rotate", use: confirmRotate)
        group.post("admin/webhooks/rotate", use: rotate)
        group.get("admin/webhooks/remove", use: confirmRemove)
        group.post("admin/webhooks/remove", use: remove)
        group.post("admin/webhooks/test", use: sendTest)
        group.post("admin/webhooks/deliveries/:id/replay", use: replay)
    }

    @Sendable func show(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await page(context, flash: PageFlash.message(request))
    }

    @Sendable func setURL(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let url = form.trimmed("url")
        let checked: String
        do {
            checked = try await WebhooksController.validatedURL(url, allowPrivateNetwork: allowPrivateNetwork)
        } catch let error as LatchkeyError where error.code == .invalidRequest {
            let problem = error.fields.first.map { "The address \($0.message)." } ?? error.message
            return try await page(context, urlError: problem, typedURL: url, status: .badRequest)
        }
        let change = try await outbox.setEndpoint(url: checked, rotateSecret: false, tenantID: context.tenantID, actor: actor(request, context))
        guard let secret = change.secret else {
            return WebResponse.redirect(to: "/admin/webhooks", flash: "Events now go to \(WebhookOutbox.host(of: checked)).")
        }
        return try await page(context, newSecret: secret, created: true)
    }

    @Sendable func confirmRotate(_ request: Request, context: AdminPageContext) async throws -> Response {
        let endpoint = try await existingEndpoint(context)
        return HTMLPage.render(
            "admin-webhook-rotate",
            title: "Rotate the signing secret",
            context: ["host": WebhookOutbox.host(of: endpoint.url), "csrf": sessions.csrfToken(for: context.sessionToken)],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func rotate(_ request: Request, context: AdminPageContext) async throws -> Response {
        let endpoint = try await existingEndpoint(context)
        let change = try await outbox.setEndpoint(url: endpoint.url, rotateSecret: true, tenantID: context.tenantID, actor: actor(request, context))
        return try await page(context, newSecret: change.secret, created: false)
    }

    @Sendable func confirmRemove(_ request: Request, context: AdminPageContext) async throws -> Response {
        let endpoint = try await existingEndpoint(context)
        return HTMLPage.render(
            "admin-webhook-remove",
            title: "Remove the webhook",
            context: ["url": endpoint.url, "csrf": sessions.csrfToken(for: context.sessionToken)],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func remove(_ request: Request, context: AdminPageContext) async throws -> Response {
        let endpoint = try await existingEndpoint(context)
        try await outbox.deleteEndpoint(tenantID: context.tenantID, actor: actor(request, context))
        return WebResponse.redirect(
            to: "/admin/webhooks",
            flash: "The webhook to \(WebhookOutbox.host(of: endpoint.url)) was removed; no more events are sent."
        )
    }

    @Sendable func sendTest(_ request: Request, context: AdminPageContext) async throws -> Response {
        guard try await outbox.endpoint(tenantID: context.tenantID) != nil else {
            return WebResponse.redirect(to: "/admin/webhooks", flash: "Set an endpoint first; then a test event can be sent to it.")
        }
        _ = try await outbox.sendTestEvent(tenantID: context.tenantID, actor: actor(request, context))
        return WebResponse.redirect(
            to: "/admin/webhooks",
            flash: "A test event (webhook.test) was queued. It is sent within seconds; reload to see how it went."
        )
    }

    @Sendable func replay(_ request: Request, context: AdminPageContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard UUID(uuidString: id) != nil, let delivery = try await outbox.repository.delivery(id: id, tenantID: context.tenantID) else {
            throw LatchkeyError.notFound("webhook delivery")
        }
        do {
            _ = try await outbox.replay(deliveryID: delivery.id, tenantID: context.tenantID, actor: actor(request, context))
        } catch let error as LatchkeyError where error.code == .conflict {
            var noEndpoint = false
            if delivery.appID == nil { noEndpoint = try await outbox.endpoint(tenantID: context.tenantID) == nil }
            let why = noEndpoint ? "there is no endpoint to send it to; set one first" : "it is being sent right now; try again in a moment"
            return WebResponse.redirect(to: "/admin/webhooks", flash: "The \(delivery.type) event was not replayed: \(why).")
        }
        return WebResponse.redirect(to: "/admin/webhooks", flash: "The \(delivery.type) event was queued again; it is sent within seconds.")
    }

    /// The tenant's endpoint; a 404 page when none is set.
    private func existingEndpoint(_ context: AdminPageContext) async throws -> WebhookEndpoint {
        guard let endpoint = try await outbox.endpoint(tenantID: context.tenantID) else {
            throw LatchkeyError(.notFound, "No webhook endpoint is set. Set one on the Webhooks page first.")
        }
        return endpoint
    }

    private func page(
        _ context: AdminPageContext,
        flash: String? = nil,
        urlError: String? = nil,
        typedURL: String? = nil,
        status: HTTPResponse.Status = .ok,
        newSecret: String? = nil,
        created: Bool = false
    ) async throws -> Response {
        let endpoint = try await outbox.endpoint(tenantID: context.tenantID)
        let deliveries = try await outbox.repository.deliveries(tenantID: context.tenantID, status: nil, limit: Self.shownDeliveries, cursor: nil)
        var values: [String: Any] = [
            "csrf": sessions.csrfToken(for: context.sessionToken), "flash": flash as Any, "urlError": urlError as Any,
            // The schemes this server accepts (http only where private networks are allowed, as in development).
            "urlHint": allowPrivateNetwork ? "https://… or http://…" : "https://…",
            "url": typedURL ?? endpoint?.url ?? "", "deliveries": deliveries.items.map(Self.row),
        ]
        if let endpoint { values["endpoint"] = ["url": endpoint.url, "since": PageDates.minute(endpoint.createdAt)] }
        var policy = ContentSecurityPolicy.standard
        if let newSecret {
            // Shown on this answer only (no redirect: nothing to reload it from); the page may run the copy script.
            values["secret"] = ["value": newSecret, "created": created]
            policy.ownScripts = true
        }
        return HTMLPage.render(
            "admin-webhooks",
            title: "Webhooks",
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true,
            policy: policy
        )
    }

    /// A delivery as the page lists it: its state and last error in plain words, dead ones marked.
    static func row(_ delivery: WebhookDelivery) -> [String: Any] {
        let state: String
        switch delivery.status {
        case .pending: state = delivery.attempts == 0 ? "waiting to be sent" : "waiting to be sent again"
        case .delivered: state = "delivered"
        case .failed: state = "failed; tried again at \(PageDates.minute(delivery.nextAttemptAt))"
        case .dead: state = "dead: given up"
        }
        var problem = delivery.lastError ?? ""
        if problem.isEmpty, let code = delivery.lastStatusCode, !(200..<300).contains(code) {
            problem = "The endpoint answered with HTTP \(code)."
        }
        if delivery.status == .delivered { problem = "" }
        return [
            "id": delivery.id, "type": delivery.type, "time": PageDates.minute(delivery.createdAt), "state": state,
            "warn": delivery.status == .failed || delivery.status == .dead, "dead": delivery.status == .dead, "attempts": delivery.attempts,
            "problem": problem.isEmpty ? "—" : problem, "app": delivery.appID as Any,
        ]
    }

    private func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}
