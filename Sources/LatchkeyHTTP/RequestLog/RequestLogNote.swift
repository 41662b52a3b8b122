public import LatchkeyCore
import Synchronization

/// What a logged route's handler tells the request log about its call: the app, end user, Connection, integration
/// and credential it served. ``RequestRecordingMiddleware`` makes one per request and reads it after the handler.
///
/// It travels as a task-local rather than on the request context: the logged routes run under different contexts
/// (admin keys today, app keys next), and a task-local reaches the handler whatever its context type, without
/// every context carrying a field only a few routes use. A handler outside a logged route sees `current == nil`.
public final class RequestLogNote: Sendable {
    /// The note of the request being handled, when its route is logged.
    @TaskLocal public static var current: RequestLogNote?

    struct Fields: Sendable {
        var appID: String?
        var externalUserID: String?
        var connectionID: String?
        var integrationKey: String?
        var credentialID: String?
        var tool: String?
    }

    private let fields = Mutex(Fields())

    init() {}

    var snapshot: Fields { fields.withLock { $0 } }

    /// Notes the credential a call served (its Connection, integration and end user with it).
    public func note(_ credential: Credential) {
        fields.withLock {
            $0.credentialID = credential.id
            $0.connectionID = credential.connectionID
            $0.integrationKey = credential.integrationKey
            if let external = credential.externalUserID { $0.externalUserID = external }
        }
    }

    /// Notes what is known of a call before (or without) a credential; nil leaves a field as it is.
    public func note(
        appID: String? = nil,
        externalUserID: String? = nil,
        connectionID: String? = nil,
        integrationKey: String? = nil,
        tool: String? = nil
    ) {
        fields.withLock {
            if let tool { $0.tool = tool }
            if let appID { $0.appID = appID }
            if let externalUserID { $0.externalUserID = externalUserID }
            if let connectionID { $0.connectionID = connectionID }
            if let integrationKey { $0.integrationKey = integrationKey }
        }
    }
}
