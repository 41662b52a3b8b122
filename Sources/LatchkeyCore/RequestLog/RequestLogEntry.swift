public import Foundation

/// What kind of call a request-log entry records.
public enum RequestKind: String, Sendable, CaseIterable, Codable {
    /// `POST /api/v1/credentials/token`.
    case token
    /// The connect-session API of apps.
    case connect
    /// A call relayed to a provider through the gateway.
    case proxy
    /// A tool call made for an agent.
    case tool
}

/// One logged call: who asked (tenant, app, end user), what it touched (connection, integration, credential), and
/// how it ended (HTTP status, error code, latency). Never a secret, a body or a query string: every field is an id,
/// a key, a code or a number.
public struct RequestLogEntry: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var time: Date
    public var kind: RequestKind
    public var appID: String?
    /// The app's id for its end user (`externalUserId`).
    public var externalUserID: String?
    public var connectionID: String?
    public var integrationKey: String?
    public var credentialID: String?
    /// The catalog tool called (`github.list_repos`), for a tool call.
    public var tool: String?
    public var status: Int
    /// The error code of DESIGN §6 (`not_connected`, `needs_reauth`, …) when the call failed.
    public var errorCode: String?
    public var latencyMilliseconds: Int

    public init(
        id: String,
        tenantID: String,
        time: Date,
        kind: RequestKind,
        appID: String? = nil,
        externalUserID: String? = nil,
        connectionID: String? = nil,
        integrationKey: String? = nil,
        credentialID: String? = nil,
        tool: String? = nil,
        status: Int,
        errorCode: String? = nil,
        latencyMilliseconds: Int
    ) {
        self.id = id
        self.tenantID = tenantID
        self.time = time
        self.kind = kind
        self.appID = appID
        self.externalUserID = externalUserID
        self.connectionID = connectionID
        self.integrationKey = integrationKey
        self.credentialID = credentialID
        self.tool = tool
        self.status = status
        self.errorCode = errorCode
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// The HTTP status classes the request log can be filtered by.
public enum StatusClass: String, Sendable, CaseIterable {
    case success = "2xx"
    case redirect = "3xx"
    case clientError = "4xx"
    case serverError = "5xx"

    /// The statuses of this class, lower bound included, upper bound excluded.
    public var range: Range<Int> {
        switch self {
        case .success: 200..<300
        case .redirect: 300..<400
        case .clientError: 400..<500
        case .serverError: 500..<600
        }
    }
}

/// Which entries of a tenant's request log to list. Every field narrows the list; nil means any.
public struct RequestLogFilter: Sendable, Equatable {
    public var kind: RequestKind?
    public var appID: String?
    public var integrationKey: String?
    public var statusClass: StatusClass?
    public var externalUserID: String?
    /// Entries at or after this time.
    public var since: Date?
    /// Entries before this time.
    public var until: Date?

    public init(
        kind: RequestKind? = nil,
        appID: String? = nil,
        integrationKey: String? = nil,
        statusClass: StatusClass? = nil,
        externalUserID: String? = nil,
        since: Date? = nil,
        until: Date? = nil
    ) {
        self.kind = kind
        self.appID = appID
        self.integrationKey = integrationKey
        self.statusClass = statusClass
        self.externalUserID = externalUserID
        self.since = since
        self.until = until
    }
}
