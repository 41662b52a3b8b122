import Foundation
import Hummingbird
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyStorage

/// An account an app vouches for: the namespace of its accounts (`slack`), the account's id there (`T1/U2`) and,
/// optionally, a name to show.
struct AppIdentityClaim: Sendable, Equatable {
    var provider: String
    var subject: String
    var displayName: String?

    /// Checks the three values, each problem reported against its own field (`fieldPrefix` + name, or the names
    /// given, such as the proxy's headers).
    static func checked(
        provider: String?,
        subject: String?,
        displayName: String?,
        names: (provider: String, subject: String, displayName: String)
    ) throws -> AppIdentityClaim {
        var problems: [LatchkeyError.FieldError] = []
        if let provider {
            if let problem = AppIdentityRules.providerProblem(provider) { problems.append(.init(path: names.provider, message: problem)) }
        } else {
            problems.append(.init(path: names.provider, message: "is required: the kind of account, such as slack"))
        }
        if let subject {
            if let problem = AppIdentityRules.subjectProblem(subject) { problems.append(.init(path: names.subject, message: problem)) }
        } else {
            problems.append(.init(path: names.subject, message: "is required: the account's id, such as T1/U2"))
        }
        if let displayName, let problem = AppIdentityRules.displayNameProblem(displayName) {
            problems.append(.init(path: names.displayName, message: problem))
        }
        guard problems.isEmpty, let provider, let subject else {
            let list = problems.map { "\($0.path) \($0.message)" }.joined(separator: "; ")
            throw LatchkeyError.invalidRequest("The identity is not valid: \(list).", fields: problems)
        }
        return AppIdentityClaim(provider: provider, subject: subject, displayName: displayName)
    }

    /// "Slack" for `slack`: the namespace as people say it.
    var providerName: String { provider.prefix(1).uppercased() + provider.dropFirst() }
}

/// The accounts apps vouch for (WEAK identities) and the link codes that join them to people (DESIGN §2, FR-4):
/// who an app's user is, a fresh code and the `/link` address when nobody has linked the account yet, and the check
/// of a code a signed-in person types.
///
/// How an app reaches a linked person's services: the account belongs to one User of the tenant, and a call naming it
/// acts as that User in the first-party console app — the person's own credential, connected in the Connection
/// Center, else the console's shared one (resolution rule 6, as an MCP client the person authorized does). The app's
/// own key still limits which integrations and operations it may use.
struct AppIdentities: Sendable {
    let identities: IdentityRepository
    let codes: LinkCodeRepository
    let users: UserRepository
    let directory: DirectoryRepository
    let defaultTenantID: String
    let keyring: Keyring
    let audit: AuditLog
    let clock: any LatchkeyClock
    /// The server's public URL, without a trailing slash.
    let publicURL: String

    /// Live codes kept per account: a further one replaces the oldest.
    static let liveCodesPerAccount = 3

    init(runtime: LatchkeyRuntime) {
        identities = IdentityRepository(database: runtime.database)
        codes = LinkCodeRepository(database: runtime.database)
        users = runtime.tenants.users
        directory = runtime.tenants.directory
        defaultTenantID = runtime.defaultTenant.id
        keyring = runtime.keyring
        audit = runtime.audit
        clock = runtime.clock
        let url = runtime.configuration.effectivePublicURL
        publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// A person, or the code that lets them link.
    enum Answer: Sendable {
        case linked(Identity, User)
        case linkRequired(LinkRequired)
    }

    /// `link_required`: the code to type, when it stops working, and where to type it.
    struct LinkRequired: Sendable {
        var code: LinkCode
        var expiresAt: Date
        var url: String
        var claim: AppIdentityClaim

        var message: String { "Link your \(claim.providerName) account first: visit \(url) and enter code \(code.text)." }
    }

    /// Who `claim` is in `app`'s tenant: the person who linked it (its last use recorded), or a new link code
    /// bound to the app and the account (audited as `identity.link_code`).
    func resolve(_ claim: AppIdentityClaim, app: App, actor: AuditActor) async throws -> Answer {
        if let identity = try await identities.identity(provider: claim.provider, subject: claim.subject, tenantID: app.tenantID),
            identity.method == .app,
            let user = try await users.user(id: identity.userID, tenantID: app.tenantID)
        {
            try await identities.touch(id: identity.id, at: clock.now)
            return .linked(identity, user)
        }
        return .linkRequired(try await issue(claim, app: app, actor: actor))
    }

    /// A new code for `claim`, bound to `app`.
    func issue(_ claim: AppIdentityClaim, app: App, actor: AuditActor) async throws -> LinkRequired {
        let now = clock.now
        let expiresAt = now.addingTimeInterval(LinkCode.lifetime)
        let candidates = (0..<8).map { _ in LinkCode.generate() }
        let chosen = try await codes.issue(
            .init(
                tenantID: app.tenantID,
                appID: app.id,
                provider: claim.provider,
                subject: claim.subject,
                displayName: claim.displayName,
                createdAt: now,
                expiresAt: expiresAt
            ),
            candidates: candidates.map(hashes(of:)),
            keepLive: Self.liveCodesPerAccount,
            now: now
        )
        try await audit.append(
            AuditRecord(
                actor: actor,
                action: "identity.link_code",
                target: app.id,
                details: ["provider": claim.provider, "subject": String(claim.subject.prefix(200)), "expires_at": Self.iso(expiresAt)]
            ),
            tenantID: app.tenantID
        )
        return LinkRequired(code: candidates[chosen], expiresAt: expiresAt, url: try await linkURL(tenantID: app.tenantID), claim: claim)
    }

    /// The keyed hashes a code is stored and found by.
    func hashes(of code: LinkCode) -> LinkCodeRepository.Hashes {
        .init(lookup: keyring.mac(code.lookupText, purpose: "link-code-lookup"), code: keyring.mac(code.text, purpose: "link-code"))
    }

    /// The absolute address of the page where a person of the tenant types a code.
    func linkURL(tenantID: String) async throws -> String {
        guard tenantID != defaultTenantID, let tenant = try await directory.tenant(id: tenantID) else { return publicURL + "/link" }
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "tenant", value: tenant.slug)]
        return publicURL + "/link" + (components.string ?? "")
    }

    /// The 403 `link_required` answer (DESIGN §6), with the code and when it expires beside the usual fields.
    static func response(_ required: LinkRequired, requestID: String) throws -> Response {
        try JSON.response(
            LinkRequiredBody(
                error: .init(
                    code: LatchkeyError.Code.linkRequired.rawValue,
                    message: required.message,
                    action: .init(type: "link", url: required.url),
                    linkCode: required.code.text,
                    expiresAt: required.expiresAt,
                    requestId: requestID
                )
            ),
            status: .forbidden
        )
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}

/// `{"error": {code, message, action, linkCode, expiresAt, requestId}}`.
struct LinkRequiredBody: Encodable {
    struct Detail: Encodable {
        var code: String
        var message: String
        var action: LatchkeyError.Action
        var linkCode: String
        var expiresAt: Date
        var requestId: String
    }
    var error: Detail
}
