import Foundation
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// `GET /api/v1/requests`: the tenant's request log (token, connect, proxy and tool calls), newest first.
struct RequestsController {
    let writer: RequestLogWriter
    let repository: RequestLogRepository

    static let parameters: Set<String> = ["kind", "appId", "integration", "status", "externalUserId", "since", "until", "limit", "cursor"]

    func addRoutes(to group: RouterGroup<AdminContext>, recorder: RouteRecorder?) {
        group.route(.get, "requests", recorder: recorder, use: list)
    }

    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let filter = try Self.filter(request)
        let limit = try request.limit()
        let cursor = try request.uri.queryParameters["cursor"].map { text in
            guard !text.isEmpty else { throw LatchkeyError.invalidField("cursor", "is not a cursor returned by this list") }
            return String(text)
        }
        // This instance's own entries that are still queued are written first, so a call shows up in the next list.
        await writer.flush()
        let page = try await repository.page(tenantID: context.tenantID, filter: filter, limit: limit, cursor: cursor)
        return try JSON.response(ListEnvelope(items: page.items.map(RequestLogEntryResponse.init), nextCursor: page.nextCursor))
    }

    /// The filters of the query, each checked; unknown parameters are refused, so that a misspelt filter cannot
    /// silently list everything.
    static func filter(_ request: Request) throws -> RequestLogFilter {
        for (name, _) in request.uri.queryParameters where !parameters.contains(String(name)) {
            throw LatchkeyError.invalidField(
                String(name),
                "is not a filter of this list; use \(parameters.sorted().joined(separator: ", "))"
            )
        }
        var filter = RequestLogFilter()
        filter.kind = try request.query("kind", oneOf: RequestKind.allCases)
        filter.appID = try request.queryUUID("appId", what: "app")
        filter.statusClass = try request.query("status", oneOf: StatusClass.allCases)
        if let text = request.uri.queryParameters["integration"] {
            guard IntegrationRules.isStoredKey(String(text)) else { throw LatchkeyError.invalidField("integration", "must be an integration key") }
            filter.integrationKey = String(text)
        }
        if let text = request.uri.queryParameters["externalUserId"] {
            guard !text.isEmpty, text.unicodeScalars.count <= 255 else {
                throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters")
            }
            filter.externalUserID = String(text)
        }
        filter.since = try date(request, "since")
        filter.until = try date(request, "until")
        if let since = filter.since, let until = filter.until, until <= since {
            throw LatchkeyError.invalidField("until", "must be later than since")
        }
        return filter
    }

    private static func date(_ request: Request, _ name: String) throws -> Date? {
        guard let text = request.uri.queryParameters[name[...]] else { return nil }
        guard let date = ISO8601.parse(String(text)) else {
            throw LatchkeyError.invalidField(name, "must be a date-time such as 2026-01-31T12:00:00Z")
        }
        return date
    }
}

struct RequestLogEntryResponse: Encodable {
    var id: String
    var time: Date
    var kind: String
    var appId: String?
    var externalUserId: String?
    var connectionId: String?
    var integration: String?
    var credentialId: String?
    var tool: String?
    var status: Int
    var errorCode: String?
    var latencyMs: Int

    init(_ e: RequestLogEntry) {
        id = e.id
        time = e.time
        kind = e.kind.rawValue
        appId = e.appID
        externalUserId = e.externalUserID
        connectionId = e.connectionID
        integration = e.integrationKey
        credentialId = e.credentialID
        tool = e.tool
        status = e.status
        errorCode = e.errorCode
        latencyMs = e.latencyMilliseconds
    }
}
