public import Hummingbird
public import LatchkeyCore

/// A request from a signed-in console user who is an administrator of their tenant, or an auditor who reads. The
/// administrator's pages are grouped under it, so a handler cannot forget the check: members get 403 before any
/// handler runs, and so does an auditor's form.
public struct AdminPageContext: ChildRequestContext, ConsoleContext {
    public var coreContext: CoreRequestContextStorage
    public let user: User
    public let sessionToken: String
    public let browserID: String
    public let remoteAddress: String?
    public let requestPath: String

    public init(context: SignedInContext) throws {
        guard context.user.seesAdministration else { throw LatchkeyError.forbidden("Only administrators can open this page.") }
        if context.user.role == .auditor, !Role.auditorMay(context.requestMethod, path: context.requestPath) { throw Role.auditorRefusal }
        self.coreContext = context.coreContext
        self.user = context.user
        self.sessionToken = context.sessionToken
        self.browserID = context.browserID
        self.remoteAddress = context.remoteAddress
        self.requestPath = context.requestPath
    }

    public var tenantID: String { user.tenantID }
}
