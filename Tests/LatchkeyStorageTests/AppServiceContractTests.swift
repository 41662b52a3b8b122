import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// Apps and their end users in storage, on SQLite and PostgreSQL.
@Suite("App service contract")
struct AppServiceContractTests {
    @Test(arguments: TestDatabases.kinds)
    func endUsersAreMadeOnFirstUseOncePerAppWithTheirNameAndEmail(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime in
            let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
            let tenantID = runtime.defaultTenant.id
            let (derek, key) = try await apps.create(.init(name: "DerekApp"), tenantID: tenantID, actor: .cli)
            let (other, _) = try await apps.create(.init(name: "Other"), tenantID: tenantID, actor: .cli)

            let sarah = try await apps.findOrCreateEndUser(app: derek, externalID: "user_sarah_123", displayName: "Sarah", email: "sarah@example.com")
            let again = try await apps.findOrCreateEndUser(app: derek, externalID: "user_sarah_123", displayName: nil, email: nil)
            #expect(again.id == sarah.id)
            #expect(again.displayName == "Sarah" && again.email == "sarah@example.com")
            // The same external id in another app is another person.
            let elsewhere = try await apps.findOrCreateEndUser(app: other, externalID: "user_sarah_123", displayName: nil, email: nil)
            #expect(elsewhere.id != sarah.id && elsewhere.displayName == nil)

            let page = try await apps.endUsers(appID: derek.id, tenantID: tenantID, limit: 10, cursor: nil)
            #expect(page.items.map(\.endUser.externalID) == ["user_sarah_123"])
            #expect(page.items.first?.endUser.email == "sarah@example.com")

            // The key is stored only as its HMAC, and finds its app.
            #expect(try await apps.authenticate(key: key)?.id == derek.id)
            #expect(try await apps.authenticate(key: key + "x") == nil)
            let stored = try await runtime.database.read { db in
                try await db.raw("SELECT key_hash FROM apps WHERE id = \(bind: derek.id)").first()?.decode(column: "key_hash", as: String.self)
            }
            #expect(stored != nil && stored != key && !(stored ?? "").contains(key.dropFirst(7)))
        }
    }
}
