import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyStorage
import LatchkeyTesting
import Logging
import Testing

/// Two instances on one PostgreSQL database: an app key regenerated, disabled or deleted, or an admin key revoked,
/// through one stops on the other at its next request (on PostgreSQL the key caches do not authenticate), with the
/// clock standing still.
@Suite("App keys across instances")
struct AppKeyInstancesTests {
    @Test(arguments: TestDatabases.kinds.filter { $0 == .postgres })
    func aKeyStoppedOnOneInstanceStopsOnTheOtherAtItsNextRequest(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        let configuration = try TestDatabases.configuration(kind)
        let logger = LogCapture().logger()
        let first = try await LatchkeyRuntime.bootstrap(configuration: configuration, clock: clock, logger: logger)
        let second = try await LatchkeyRuntime.bootstrap(configuration: configuration, clock: clock, logger: logger)
        do {
            try await Self.run(first, second, clock: clock)
        } catch {
            await second.database.close()
            await TestDatabases.cleanUp(first)
            throw error
        }
        await second.database.close()
        await TestDatabases.cleanUp(first)
    }

    static func application(_ runtime: LatchkeyRuntime) -> some ApplicationProtocol {
        buildApplication(
            runtime: runtime,
            dependencies: ApplicationDependencies(
                registry: TestMetrics.registry,
                runBackgroundServices: false,
                ownsDatabase: false,
                transport: FakeNetwork()
            )
        )
    }

    static func run(_ first: LatchkeyRuntime, _ second: LatchkeyRuntime, clock: TestClock) async throws {
        let (_, adminKey) = try await first.tenants.createAdminKey(tenantID: first.defaultTenant.id, name: "test", actor: .cli)
        let admin: HTTPFields = [.authorization: "Bearer \(adminKey)", .contentType: "application/json"]
        try await application(first).test(.router) { one in
            try await application(second).test(.router) { two in
                func status(_ client: any TestClientProtocol, _ key: String) async throws -> HTTPResponse.Status {
                    let response = try await client.execute(uri: "/api/v1/end-users", method: .get, headers: [.authorization: "Bearer \(key)"])
                    return response.status
                }
                let created = try await one.execute(uri: "/api/v1/apps", method: .post, headers: admin, body: try body(["name": "DerekApp"]))
                let id = try #require(try created.json["id"] as? String)
                let key = try #require(try created.json["apiKey"] as? String)
                #expect(try await status(one, key) == .ok)
                #expect(try await status(two, key) == .ok)

                // Regenerated through the first: stopped there and on the second at once.
                let regenerated = try await one.execute(uri: "/api/v1/apps/\(id)/api-key/regenerate", method: .post, headers: admin)
                let newKey = try #require(try regenerated.json["apiKey"] as? String)
                #expect(try await status(one, key) == .unauthorized)
                #expect(try await status(two, key) == .unauthorized)
                #expect(try await status(two, newKey) == .ok)

                // Disabled through the first: 403 there and on the second at once; enabled again likewise.
                _ = try await one.execute(uri: "/api/v1/apps/\(id)", method: .patch, headers: admin, body: try body(["status": "disabled"]))
                #expect(try await status(one, newKey) == .forbidden)
                #expect(try await status(two, newKey) == .forbidden)
                _ = try await one.execute(uri: "/api/v1/apps/\(id)", method: .patch, headers: admin, body: try body(["status": "active"]))
                #expect(try await status(two, newKey) == .ok)

                // Deleted through the first: gone there and on the second at once.
                #expect(try await one.execute(uri: "/api/v1/apps/\(id)", method: .delete, headers: admin).status == .noContent)
                #expect(try await status(one, newKey) == .unauthorized)
                #expect(try await status(two, newKey) == .unauthorized)

                // An admin key revoked through the first (an incident): refused on the second at its next request.
                let (spare, spareKey) = try await first.tenants.createAdminKey(tenantID: first.defaultTenant.id, name: "spare", actor: .cli)
                let spareHeaders: HTTPFields = [.authorization: "Bearer \(spareKey)"]
                #expect(try await two.execute(uri: "/api/v1/apps", method: .get, headers: spareHeaders).status == .ok)
                #expect(try await one.execute(uri: "/api/v1/apps", method: .get, headers: spareHeaders).status == .ok)
                let revoked = try await one.execute(uri: "/api/v1/admin-keys/\(spare.id)/revoke", method: .post, headers: admin)
                #expect(revoked.status == .ok)
                #expect(try await two.execute(uri: "/api/v1/apps", method: .get, headers: spareHeaders).status == .unauthorized)
                #expect(try await one.execute(uri: "/api/v1/apps", method: .get, headers: spareHeaders).status == .unauthorized)
            }
        }
    }
}
