import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import LatchkeyCore
import LatchkeyStorage
import NIOPosix

/// `/admin/users`: the tenant's console users — list and add them, and per user reset the password (typed, or
/// generated and shown once; their sessions end), change the role and remove them after a confirmation. Nobody
/// removes or demotes themselves, and the last administrator stays one. Each change audited as the administrator.
struct AdminUsersPagesController {
    let tenants: TenantService
    let sessions: WebSessions
    /// Export and erasure of a person's data (`AdminUsersPagesController+Erase.swift`).
    var erasure: PersonErasurePages? = nil

    func addRoutes(to group: RouterGroup<AdminPageContext>) {
        group.get("admin/users", use: list)
        group.post("admin/users", use: add)
        group.get("admin/users/:id", use: show)
        group.post("admin/users/:id/password", use: resetPassword)
        group.post("admin/users/:id/role", use: changeRole)
        group.get("admin/users/:id/remove", use: confirmRemove)
        group.post("admin/users/:id/remove", use: remove)
        if erasure != nil { addErasureRoutes(to: group) }
    }

    @Sendable func list(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await listPage(context, flash: PageFlash.message(request), error: nil)
    }

    private func listPage(
        _ context: AdminPageContext,
        flash: String?,
        error: (field: String, message: String)?,
        typed: [String: Any] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let list = try await tenants.users.list(tenantID: context.tenantID).map { user in
            [
                "id": user.id, "email": user.email, "name": user.displayName, "admin": user.isAdmin, "roleName": Self.roleName(user.role),
                "you": user.id == context.user.id,
            ]
        }
        return HTMLPage.render(
            "admin-users",
            title: "Users",
            context: [
                "users": list, "csrf": sessions.csrfToken(for: context.sessionToken), "flash": flash as Any,
                "error": error?.message as Any, "\(error?.field ?? "none")Error": error?.message as Any, "typed": typed,
                "roles": Self.roleChoices(selected: (typed["role"] as? String).flatMap(Role.init(rawValue:)) ?? .member),
            ],
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            wide: true
        )
    }

    @Sendable func add(_ request: Request, context: AdminPageContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let email = form.trimmed("email").lowercased()
        let name = form.trimmed("name")
        let password = form["password"] ?? ""
        // Typed values come back after an error; the password never does.
        // The role select; `admin=1` is what the form sent before auditors.
        let role = form["role"].flatMap(Role.init(rawValue:)) ?? (form["admin"] == "1" ? .admin : .member)
        let typed: [String: Any] = ["email": email, "name": name, "role": role.rawValue]
        if let sent = form["role"], Role(rawValue: sent) == nil {
            return try await listPage(
                context,
                flash: nil,
                error: ("role", "Choose Administrator, Auditor or Member."),
                typed: typed,
                status: .badRequest
            )
        }
        if let problem = UserRules.fieldProblem(email: email, name: name, password: password) {
            return try await listPage(context, flash: nil, error: problem, typed: typed, status: .badRequest)
        }
        let hash = try await UserRules.hash(password)
        do {
            _ = try await tenants.createUser(
                tenantID: context.tenantID,
                email: email,
                displayName: name,
                passwordHash: hash,
                role: role,
                actor: actor(request, context)
            )
        } catch let error as LatchkeyError where error.code == .conflict {
            return try await listPage(context, flash: nil, error: ("email", error.message), typed: typed, status: .badRequest)
        }
        return WebResponse.redirect(to: "/admin/users", flash: "User \(email) added.")
    }

    @Sendable func show(_ request: Request, context: AdminPageContext) async throws -> Response {
        try await userPage(context, try await target(context), flash: PageFlash.message(request))
    }

    @Sendable func resetPassword(_ request: Request, context: AdminPageContext) async throws -> Response {
        let user = try await target(context)
        let form = try await WebForm.read(request)
        var password = form["password"] ?? ""
        let generated = password.isEmpty
        if generated { password = SecureRandom.token(byteCount: 15) }
        if let problem = UserRules.passwordProblem(password) {
            return try await userPage(context, user, passwordError: problem, status: .badRequest)
        }
        let hash = try await UserRules.hash(password)
        let mine = user.id == context.user.id
        _ = try await tenants.resetPassword(
            userID: user.id,
            tenantID: context.tenantID,
            passwordHash: hash,
            keepingSession: mine ? sessions.hash(context.sessionToken) : nil,
            actor: actor(request, context)
        )
        let ended = mine ? "Your other sessions ended." : "They were signed out everywhere and sign in with the new password."
        guard generated else {
            return WebResponse.redirect(to: "/admin/users/\(user.id)", flash: "The password of \(user.email) was changed. \(ended)")
        }
        // Shown on this answer only (no redirect: nothing to reload it from); the page may run the copy script.
        var policy = ContentSecurityPolicy.standard
        policy.ownScripts = true
        return try await userPage(context, user, generated: password, note: ended, policy: policy)
    }

    @Sendable func changeRole(_ request: Request, context: AdminPageContext) async throws -> Response {
        let user = try await target(context)
        let form = try await WebForm.read(request)
        guard let role = form["role"].flatMap(Role.init(rawValue:)) else {
            return try await userPage(context, user, roleError: "Choose Administrator, Auditor or Member.", status: .badRequest)
        }
        if user.id == context.user.id {
            return try await userPage(
                context,
                user,
                roleError: "You cannot change your own role. Ask another administrator to do it.",
                status: .badRequest
            )
        }
        do {
            let changed = try await tenants.setRole(
                userID: user.id,
                tenantID: context.tenantID,
                role: role,
                actor: actor(request, context)
            )
            return WebResponse.redirect(to: "/admin/users/\(user.id)", flash: "\(user.email) is now \(changed.role.described).")
        } catch let error as LatchkeyError where error.code == .conflict {
            return try await userPage(context, user, roleError: error.message, status: .badRequest)
        }
    }

    @Sendable func confirmRemove(_ request: Request, context: AdminPageContext) async throws -> Response {
        let user = try await target(context)
        if let refusal = try await removalRefusal(user, context) {
            return try await userPage(context, user, removeError: refusal, status: .badRequest)
        }
        return HTMLPage.render(
            "admin-user-remove",
            title: "Remove \(user.email)",
            context: ["id": user.id, "email": user.email, "name": user.displayName, "csrf": sessions.csrfToken(for: context.sessionToken)],
            chrome: PageChrome(context, sessions: sessions)
        )
    }

    @Sendable func remove(_ request: Request, context: AdminPageContext) async throws -> Response {
        let user = try await target(context)
        if let refusal = try await removalRefusal(user, context) {
            return try await userPage(context, user, removeError: refusal, status: .badRequest)
        }
        do {
            _ = try await tenants.removeUser(userID: user.id, tenantID: context.tenantID, actor: actor(request, context))
        } catch let error as LatchkeyError where error.code == .conflict {
            return try await userPage(context, user, removeError: error.message, status: .badRequest)
        }
        return WebResponse.redirect(to: "/admin/users", flash: "\(user.email) was removed and can no longer sign in.")
    }

    /// Why this administrator may not remove `user`, in plain words; nil when they may.
    func removalRefusal(_ user: User, _ context: AdminPageContext) async throws -> String? {
        if user.id == context.user.id { return "You cannot remove yourself. Ask another administrator to do it." }
        let admins = try await tenants.users.list(tenantID: context.tenantID).filter(\.isAdmin)
        if user.isAdmin, admins.map(\.id) == [user.id] {
            return "\(user.email) is the only administrator, so they cannot be removed. Make someone else an administrator first."
        }
        return nil
    }

    /// The tenant's user named in the path; not found otherwise (another tenant's included).
    func target(_ context: AdminPageContext) async throws -> User {
        let id = context.parameters.get("id") ?? ""
        guard UUID(uuidString: id) != nil, let user = try await tenants.users.user(id: id, tenantID: context.tenantID) else {
            throw LatchkeyError.notFound("user")
        }
        return user
    }

    func userPage(
        _ context: AdminPageContext,
        _ user: User,
        flash: String? = nil,
        passwordError: String? = nil,
        roleError: String? = nil,
        removeError: String? = nil,
        eraseError: String? = nil,
        status: HTTPResponse.Status = .ok,
        generated: String? = nil,
        note: String? = nil,
        policy: ContentSecurityPolicy = .standard
    ) async throws -> Response {
        var values: [String: Any] = [
            "id": user.id, "email": user.email, "name": user.displayName, "admin": user.isAdmin, "you": user.id == context.user.id,
            "roleName": Self.roleName(user.role), "roles": Self.roleChoices(selected: user.role),
            "since": PageDates.minute(user.createdAt), "csrf": sessions.csrfToken(for: context.sessionToken), "flash": flash as Any,
            "passwordError": passwordError as Any, "roleError": roleError as Any, "removeError": removeError as Any,
            "eraseError": eraseError as Any, "erasure": erasure != nil,
        ]
        let problems = [passwordError, roleError, removeError, eraseError].compactMap { $0 }
        if !problems.isEmpty { values["problems"] = problems }
        if let generated { values["generated"] = ["password": generated, "note": note ?? ""] }
        return HTMLPage.render(
            "admin-user",
            title: user.email,
            context: values,
            status: status,
            chrome: PageChrome(context, sessions: sessions),
            policy: policy
        )
    }

    func actor(_ request: Request, _ context: AdminPageContext) -> AuditActor {
        AuditActor(id: "user:\(context.user.id)", ip: context.remoteAddress, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
    }
}

extension AdminUsersPagesController {
    /// The role as the pages name it.
    static func roleName(_ role: Role) -> String {
        switch role {
        case .admin: "Administrator"
        case .auditor: "Auditor"
        case .member: "Member"
        }
    }

    /// The role select's options, least power first.
    static func roleChoices(selected: Role) -> [[String: Any]] {
        let described: [(Role, String)] = [
            (.member, "Member: connects their own accounts"),
            (.auditor, "Auditor: reads everything, changes nothing"),
            (.admin, "Administrator: manages this tenant"),
        ]
        return described.map { role, label in ["value": role.rawValue, "label": label, "selected": role == selected] }
    }
}

/// The rules for console users, shared by the admin page and `latchkey users create`.
public enum UserRules {
    /// What is wrong with these details, in plain words, or nil.
    public static func problem(email: String, name: String, password: String) -> String? {
        fieldProblem(email: email, name: name, password: password)?.message
    }

    /// The first field that is wrong (`email`, `name` or `password`) and what is wrong with it, or nil.
    public static func fieldProblem(email: String, name: String, password: String) -> (field: String, message: String)? {
        if !SetupController.looksLikeEmail(email) { return ("email", "Enter a valid email address.") }
        if name.isEmpty || name.count > 200 { return ("name", "Enter a name of up to 200 characters.") }
        return passwordProblem(password).map { ("password", $0) }
    }

    /// What is wrong with this password, in plain words, or nil.
    public static func passwordProblem(_ password: String) -> String? {
        if password.count < 12 { return "Choose a password of at least 12 characters." }
        if password.utf8.count > 72 { return "Choose a password of at most 72 bytes." }
        return nil
    }

    /// bcrypt at cost 12, off the event loop.
    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: 12) }
    }
}
