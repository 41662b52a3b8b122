public import Foundation
public import LatchkeyCore
import SQLKit

extension DirectoryRepository {
    /// The end user `externalID` of `appID`, created on first use, in a write of its own (for flows that do not run
    /// it inside a larger transaction).
    public func findOrCreateEndUser(tenantID: String, appID: String, externalID: String, now: Date) async throws -> EndUser {
        try await database.write { db in
            try await findOrCreateEndUser(tenantID: tenantID, appID: appID, externalID: externalID, now: now, on: db)
        }
    }
}

extension DirectoryRepository {
    /// Inserts new end users in one statement (the bulk seed).
    func insertEndUsers(_ endUsers: [EndUser], on db: any SQLDatabase) async throws {
        guard !endUsers.isEmpty else { return }
        var query = SQLQueryString("INSERT INTO end_users (id, tenant_id, app_id, external_id, user_id, created_at) VALUES ")
        for (index, endUser) in endUsers.enumerated() {
            if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
            let values: [any Encodable & Sendable] = [
                endUser.id, endUser.tenantID, endUser.appID, endUser.externalID, endUser.userID, endUser.createdAt.ms,
            ]
            query.appendInterpolation(unsafeRaw: "(")
            query.appendInterpolation(binds: values)
            query.appendInterpolation(unsafeRaw: ")")
        }
        try await db.raw(query).run()
    }
}
