public import Foundation
public import LatchkeyCore

extension DirectoryRepository {
    /// The end user `externalID` of `appID`, created on first use, in a write of its own (for flows that do not run
    /// it inside a larger transaction).
    public func findOrCreateEndUser(tenantID: String, appID: String, externalID: String, now: Date) async throws -> EndUser {
        try await database.write { db in
            try await findOrCreateEndUser(tenantID: tenantID, appID: appID, externalID: externalID, now: now, on: db)
        }
    }
}
