public import Hummingbird
public import LatchkeyCore
import Logging

/// The context every request starts with. Authentication middleware fills in who is calling; the typed child
/// contexts below refuse to exist without it, so a handler cannot forget to check.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The admin key that authenticated this request, if any.
    public var adminKey: AdminKey?
    /// The client's address, for audit events.
    public var remoteAddress: String?

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
        guard let key = context.adminKey else { throw LatchkeyError.unauthorized() }
        self.coreContext = context.coreContext
        self.adminKey = key
        self.remoteAddress = context.remoteAddress
    }

    public var tenantID: String { adminKey.tenantID }
}
