import Foundation
public import LatchkeyCore
import SQLKit

extension SignInProviderRepository {
    /// Creates a person a provider signed in just in time (a member without a password) with their identity, and audits
    /// both, in one transaction. A person with that email already in the tenant is a conflict: nobody is linked by email.
    public func createUser(_ user: User, identity: Identity, audit: AuditLog, actor: AuditActor) async throws {
        do {
            try await database.transaction { db in
                try await UserRepository(database: database).insert(user, passwordHash: nil, on: db)
                try await IdentityRepository(database: database).insert(identity, on: db)
                try await audit.append(
                    AuditRecord(
                        actor: actor,
                        action: "user.create",
                        target: user.id,
                        details: ["email": user.email, "admin": "false", "via": String(identity.provider.prefix(200))],
                        person: user.id
                    ),
                    tenantID: user.tenantID,
                    on: db
                )
            }
        } catch  where Database.isUniqueViolation(error) {
            throw LatchkeyError.conflict("A user with the email \(user.email) already exists.")
        }
    }
}
