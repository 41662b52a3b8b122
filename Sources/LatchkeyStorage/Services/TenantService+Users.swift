import Foundation
public import LatchkeyCore
import Logging
import SQLKit

extension TenantService {
    /// Sets a console user's password to a bcrypt hash computed by the caller and ends their browser sessions (all but
    /// `keepingSession`, the id hash of the caller's own when they reset their own password). Audited.
    public func resetPassword(
        userID: String,
        tenantID: String,
        passwordHash: String,
        keepingSession: String? = nil,
        actor: AuditActor
    ) async throws -> User {
        let user = try await database.transaction { db in
            guard let user = try await users.user(id: userID, tenantID: tenantID, on: db) else { throw LatchkeyError.notFound("user") }
            try await users.setPasswordHash(passwordHash, userID: userID, tenantID: tenantID, now: clock.now, on: db)
            let ended = try await users.endSessions(userID: userID, keeping: keepingSession, on: db)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "user.password_reset",
                    target: userID,
                    details: ["email": user.email, "sessions_ended": String(ended)],
                    person: userID
                ),
                tenantID: tenantID,
                on: db
            )
            return user
        }
        logger.info("user password reset", metadata: ["user_id": "\(userID)"])
        return user
    }

    /// Makes a console user an administrator, an auditor or a member. Refused (409) when it would leave the tenant
    /// without an administrator. Audited when the role changes.
    public func setRole(userID: String, tenantID: String, role: Role, actor: AuditActor) async throws -> User {
        try await database.transaction { db in
            let admins = try await users.lockedAdminIDs(tenantID: tenantID, on: db)
            guard var user = try await users.user(id: userID, tenantID: tenantID, on: db) else { throw LatchkeyError.notFound("user") }
            guard user.role != role else { return user }
            if role != .admin, admins == [userID] { throw Self.lastAdministrator(user, doing: "made \(role.described)") }
            try await users.setRole(role, userID: userID, tenantID: tenantID, on: db)
            try await audit.append(
                AuditRecord(
                    actor: actor,
                    action: "user.role_change",
                    target: userID,
                    details: ["email": user.email, "role": role.rawValue, "admin": String(role == .admin)],
                    person: userID
                ),
                tenantID: tenantID,
                on: db
            )
            user.role = role
            return user
        }
    }

    /// `setRole` with the two roles the console had before auditors.
    public func setRole(userID: String, tenantID: String, isAdmin: Bool, actor: AuditActor) async throws -> User {
        try await setRole(userID: userID, tenantID: tenantID, role: isAdmin ? .admin : .member, actor: actor)
    }

    /// Removes a console user: they can no longer sign in, their sessions end, and the grants they gave the
    /// authorization server's clients (with those clients' tokens) are deleted. The accounts they connected stay with
    /// the tenant. Refused (409) for the tenant's last administrator. Audited.
    public func removeUser(userID: String, tenantID: String, actor: AuditActor) async throws -> User {
        let user = try await database.transaction { db in
            let admins = try await users.lockedAdminIDs(tenantID: tenantID, on: db)
            guard let user = try await users.user(id: userID, tenantID: tenantID, on: db) else { throw LatchkeyError.notFound("user") }
            if admins == [userID] { throw Self.lastAdministrator(user, doing: "removed") }
            try await users.delete(userID: userID, tenantID: tenantID, on: db)
            try await audit.append(
                AuditRecord(actor: actor, action: "user.delete", target: userID, details: ["email": user.email], person: userID),
                tenantID: tenantID,
                on: db
            )
            return user
        }
        logger.info("user removed", metadata: ["user_id": "\(userID)"])
        return user
    }

    static func lastAdministrator(_ user: User, doing: String) -> LatchkeyError {
        LatchkeyError.conflict(
            "\(user.email) is the only administrator, so they cannot be \(doing): nobody could manage this tenant any more. "
                + "Make someone else an administrator first."
        )
    }
}
