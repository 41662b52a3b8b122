import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyStorage

/// `/api/v1/webhooks`: the tenant's webhook endpoint, its deliveries, and replay; `/api/v1/apps/{id}/webhook`: an
/// app's own endpoint, which hears of that app's end users only.
struct WebhooksController {
    let outbox: WebhookOutbox
    let allowPrivateNetwork: Bool
    let maxBodySize: Int

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.put, "webhooks", recorder: recorder, use: put)
        group.route(.get, "webhooks", recorder: recorder, use: show)
        group.route(.delete, "webhooks", recorder: recorder, use: delete)
        group.route(.get, "webhooks/deliveries", recorder: recorder, use: deliveries)
        group.route(.post, "webhooks/deliveries/:id/replay", recorder: recorder, use: replay)
        group.route(.post, "webhooks/test", recorder: recorder, use: sendTest)
        group.route(.put, "apps/:id/webhook", recorder: recorder, use: put)
        group.route(.get, "apps/:id/webhook", recorder: recorder, use: show)
        group.route(.delete, "apps/:id/webhook", recorder: recorder, use: delete)
    }

    /// The app of `/apps/{id}/webhook`; nil on the tenant's routes.
    static func appID(_ context: AdminContext) throws -> String? {
        context.parameters.get("id") == nil ? nil : try PathID.parse(context, what: "app")
    }

    /// Where the endpoint of `appID` (or the tenant's) lives.
    static func location(_ appID: String?) -> String {
        appID.map { "/api/v1/apps/\($0)/webhook" } ?? "/api/v1/webhooks"
    }

    @Sendable func put(_ request: Request, context: AdminContext) async throws -> Response {
        let appID = try Self.appID(context)
        let body = try await JSON.decode(PutWebhookRequest.self, from: request, limit: maxBodySize)
        let url = try await Self.validatedURL(body.url, allowPrivateNetwork: allowPrivateNetwork)
        let change = try await outbox.setEndpoint(
            url: url,
            rotateSecret: body.rotateSecret ?? false,
            tenantID: context.tenantID,
            appID: appID,
            actor: context.actor(for: request)
        )
        return try JSON.response(
            WebhookEndpointResponse(change.endpoint, secret: change.secret),
            status: change.created ? .created : .ok,
            headers: change.created ? [.location: Self.location(appID)] : [:]
        )
    }

    @Sendable func show(_ request: Request, context: AdminContext) async throws -> Response {
        let appID = try Self.appID(context)
        guard let endpoint = try await outbox.endpoint(tenantID: context.tenantID, appID: appID) else {
            throw WebhookOutbox.noEndpoint(appID: appID)
        }
        return try JSON.response(WebhookEndpointResponse(endpoint, secret: nil))
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        try await outbox.deleteEndpoint(tenantID: context.tenantID, appID: try Self.appID(context), actor: context.actor(for: request))
        return Response(status: .noContent)
    }

    @Sendable func deliveries(_ request: Request, context: AdminContext) async throws -> Response {
        let status = try request.query("status", oneOf: WebhookDeliveryStatus.allCases)
        let page = try await outbox.repository.deliveries(
            tenantID: context.tenantID,
            status: status,
            limit: try request.limit(),
            cursor: request.query("cursor")
        )
        return try JSON.response(ListEnvelope(items: page.items.map(WebhookDeliveryResponse.init), nextCursor: page.nextCursor))
    }

    @Sendable func replay(_ request: Request, context: AdminContext) async throws -> Response {
        let id = try PathID.parse(context, what: "delivery")
        let delivery = try await outbox.replay(deliveryID: id, tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(WebhookDeliveryResponse(delivery), status: .accepted)
    }

    @Sendable func sendTest(_ request: Request, context: AdminContext) async throws -> Response {
        let delivery = try await outbox.sendTestEvent(tenantID: context.tenantID, actor: context.actor(for: request))
        return try JSON.response(WebhookDeliveryResponse(delivery), status: .accepted)
    }

    /// An endpoint URL Latchkey will send to: absolute https (http only with `--allow-private-network`), a host, no user
    /// info or fragment, no control character or whitespace anywhere, at most 2,048 characters. Hosts that
    /// ``AddressClassifier`` refuses — literal loopback, private, link-local and other non-public addresses in any form
    /// the resolver reads, and names of this machine — are refused unless private networks are allowed; names are
    /// checked again, resolved, on every send.
    static func validatedURL(_ text: String, allowPrivateNetwork: Bool) async throws -> String {
        func refuse(_ message: String) -> LatchkeyError { .invalidField("url", message) }
        guard !text.isEmpty else { throw refuse("is required") }
        guard text.count <= 2048 else { throw refuse("must be at most 2048 characters") }
        if OutboundPolicy.textProblem(text) != nil {
            throw refuse("must not contain control characters (such as a line break) or spaces; encode them or remove them")
        }
        guard let components = URLComponents(string: text), components.url != nil, let scheme = components.scheme?.lowercased() else {
            throw refuse("must be an absolute https URL")
        }
        guard scheme == "https" || (scheme == "http" && allowPrivateNetwork) else {
            throw refuse(allowPrivateNetwork ? "must be an http or https URL" : "must be an https URL")
        }
        guard let host = components.host, !host.isEmpty else { throw refuse("must name a host") }
        guard components.user == nil, components.password == nil else { throw refuse("must not contain a user name or password") }
        guard components.fragment == nil else { throw refuse("must not have a #fragment") }
        if let problem = OutboundPolicy.hostProblem(components.percentEncodedHost ?? host) { throw refuse("cannot be used: \(problem)") }
        if !allowPrivateNetwork, let reason = AddressClassifier.refusal(host: host) {
            throw refuse(
                "must not point at this machine or its network: \(host) is refused because \(reason). Webhooks go there only when "
                    + "the server runs with --allow-private-network"
            )
        }
        return text
    }
}

/// `PUT /api/v1/webhooks`.
struct PutWebhookRequest: Decodable, AllowedKeys {
    var url: String
    var rotateSecret: Bool?

    static let allowedKeys: Set<String> = ["url", "rotateSecret"]
}

struct WebhookEndpointResponse: Encodable {
    /// The app whose endpoint this is; absent for the tenant's.
    var appId: String?
    var url: String
    var events: [String]
    var createdAt: Date
    var updatedAt: Date
    /// Present only in the answer that created it.
    var secret: String?

    init(_ endpoint: WebhookEndpoint, secret: String?) {
        appId = endpoint.appID
        url = endpoint.url
        events = (endpoint.appID == nil ? WebhookEventType.allCases : WebhookEventType.appEvents).map(\.rawValue)
        createdAt = endpoint.createdAt
        updatedAt = endpoint.updatedAt
        self.secret = secret
    }
}

struct WebhookDeliveryResponse: Encodable {
    var id: String
    /// The app whose endpoint the delivery goes to; absent for the tenant's.
    var appId: String?
    var eventId: String
    var type: String
    var status: String
    var attempts: Int
    var createdAt: Date
    var nextAttemptAt: Date?
    var lastAttemptAt: Date?
    var lastStatusCode: Int?
    var lastError: String?
    var deliveredAt: Date?
    /// The event exactly as it is sent.
    var event: WebhookValue

    init(_ delivery: WebhookDelivery) {
        id = delivery.id
        appId = delivery.appID
        eventId = delivery.eventID
        type = delivery.type
        status = delivery.status.rawValue
        attempts = delivery.attempts
        createdAt = delivery.createdAt
        nextAttemptAt = delivery.status == .pending || delivery.status == .failed ? delivery.nextAttemptAt : nil
        lastAttemptAt = delivery.lastAttemptAt
        lastStatusCode = delivery.lastStatusCode
        lastError = delivery.lastError
        deliveredAt = delivery.deliveredAt
        event = (try? JSONDecoder().decode(WebhookValue.self, from: Data(delivery.payload.utf8))) ?? .null
    }
}
