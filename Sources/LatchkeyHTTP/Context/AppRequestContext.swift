public import Hummingbird
public import LatchkeyCore
import LatchkeyStorage
import Logging

/// The context every request starts with. Authentication middleware fills in who is calling; the typed child
/// contexts below refuse to exist without it, so a handler cannot forget to check.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The admin key that authenticated this request, if any.
    public var adminKey: AdminKey?
    /// The app whose key authenticated this request, if any (never together with `adminKey`).
    public var appCaller: AppCaller?
    /// The client's address, for audit events.
    public var remoteAddress: String?
    /// The signed-in console session, on web routes.
    public var webSession: WebSessions.Session?
    /// The session cookie's value (the CSRF token is derived from it).
    public var sessionToken: String?
    /// The browser's id cookie, which binds anonymous forms and connect flows to one browser.
    public var browserID: String?
    /// The path of the page asked for, on web routes: the navigation marks where the person is.
    public var requestPath = ""
    /// The request's method, set by the authentication middleware (the typed contexts refuse an auditor anything but
    /// reading). Nil counts as a change.
    public var requestMethod: HTTPRequest.Method?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies above this are refused with 413 before they are read.
    public var maxUploadSize: Int { 1024 * 1024 }
}

/// A request made with a tenant admin key (`Authorization: Bearer lk_live_…`).
public struct AdminContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let adminKey: AdminKey
    public let remoteAddress: String?

    public init(context: AppRequestContext) throws {
        if context.appCaller != nil {
            throw LatchkeyError.forbidden("App keys (lk_app_…) cannot use tenant admin endpoints; use a tenant admin key (lk_live_…).")
        }
        guard let key = context.adminKey else { throw LatchkeyError.unauthorized() }
        if key.role == .auditor, !Role.reads(context.requestMethod) { throw Role.auditorKeyRefusal }
        self.coreContext = context.coreContext
        self.adminKey = key
        self.remoteAddress = context.remoteAddress
    }

    public var tenantID: String { adminKey.tenantID }
}

/// A request from a signed-in console user: what the console's pages need to render their chrome.
public protocol ConsoleContext: RequestContext {
    var user: User { get }
    var sessionToken: String { get }
    /// The path of the page asked for (the navigation marks its link as the current one).
    var requestPath: String { get }
}

extension ConsoleContext {
    /// No path known: no link of the navigation is marked as the current one.
    public var requestPath: String { "" }
}

/// A request from a signed-in console user (cookie session). Routes that need one are grouped under it, so a
/// handler cannot skip the check.
public struct SignedInContext: ChildRequestContext, ConsoleContext {
    public var coreContext: CoreRequestContextStorage
    public let user: User
    public let sessionToken: String
    public let browserID: String
    public let remoteAddress: String?
    public let requestPath: String
    /// Nil counts as a change.
    public let requestMethod: HTTPRequest.Method?

    public init(context: AppRequestContext) throws {
        guard let session = context.webSession, let token = context.sessionToken, let browserID = context.browserID else {
            throw LatchkeyError.unauthorized("Please sign in.")
        }
        self.requestMethod = context.requestMethod
        self.coreContext = context.coreContext
        self.user = session.user
        self.sessionToken = token
        self.browserID = browserID
        self.remoteAddress = context.remoteAddress
        self.requestPath = context.requestPath
    }

    public var tenantID: String { user.tenantID }
}
