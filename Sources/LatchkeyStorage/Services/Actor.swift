public import LatchkeyCore

/// Who is acting, for audit events.
public struct AuditActor: Sendable, Equatable {
    /// "admin_key:<id>", "user:<id>", "cli", "system".
    public var id: String
    public var ip: String?
    public var userAgent: String?

    public init(id: String, ip: String? = nil, userAgent: String? = nil) {
        self.id = id
        self.ip = ip
        self.userAgent = userAgent
    }

    public static let cli = AuditActor(id: "cli")
    public static let system = AuditActor(id: "system")
}

extension AuditRecord {
    /// A record of `action` by `actor`, with the actor's address and user agent.
    public init(
        actor: AuditActor,
        action: String,
        target: String?,
        service: String? = nil,
        result: AuditResult = .success,
        details: [String: String] = [:],
        person: String? = nil
    ) {
        self.init(
            actor: actor.id,
            action: action,
            target: target,
            service: service,
            tool: nil,
            result: result,
            ip: actor.ip,
            userAgent: actor.userAgent,
            details: details,
            person: person
        )
    }
}
