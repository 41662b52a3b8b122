import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

@Suite("Request log")
struct RequestLogTests {
    static func list(_ client: any TestClientProtocol, _ fixture: TestFixture, _ query: String = "") async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/requests\(query)", method: .get, headers: fixture.headers)
    }

    static func items(_ response: TestResponse) throws -> [[String: Any]] {
        try #require(try response.json["items"] as? [[String: Any]])
    }

    @Test(arguments: TestDatabases.kinds)
    func tokenCallsAreLoggedWithWhoWhatAndHowTheyEndedAndNoSecret(kind: TestDatabases.Kind) async throws {
        try await TokenAndHealthAPITests.with(kind) { client, fixture, fake, clock in
            func token(_ object: [String: Any]) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/credentials/token", method: .post, headers: fixture.headers, body: try body(object))
            }
            let id = try await TokenAndHealthAPITests.importAccount(client, fixture, fake, user: "alice", expiresAt: "2099-01-01T00:00:00Z")
            clock.advance(by: 1)
            let served = try await token(["integration": "gitlab", "externalUserId": "alice"])
            #expect(served.status == .ok)
            let accessToken = try #require(try served.json["accessToken"] as? String)
            clock.advance(by: 1)
            #expect(try await token(["integration": "gitlab", "externalUserId": "bob"]).errorCode == "not_connected")
            clock.advance(by: 1)
            #expect(try await token(["integration": "no such key!"]).status == .badRequest)

            let listed = try await Self.list(client, fixture)
            #expect(listed.status == .ok)
            let entries = try Self.items(listed)
            try #require(entries.count == 3)
            let (invalid, missing, ok) = (entries[0], entries[1], entries[2])
            let console = try #require(try await fixture.runtime.tenants.directory.consoleApp(tenantID: fixture.tenantID))
            #expect(ok["kind"] as? String == "token" && ok["status"] as? Int == 200 && ok["errorCode"] == nil)
            #expect(ok["credentialId"] as? String == id && ok["integration"] as? String == "gitlab")
            #expect(ok["externalUserId"] as? String == "alice" && ok["connectionId"] is String && ok["appId"] as? String == console.id)
            #expect((ok["latencyMs"] as? Int ?? -1) >= 0)
            #expect(missing["status"] as? Int == 409 && missing["errorCode"] as? String == "not_connected")
            #expect(invalid["status"] as? Int == 400 && invalid["errorCode"] as? String == "invalid_request")
            #expect(invalid["credentialId"] == nil)

            // Never a secret: not in the answer, not in any column.
            let stored = try await fixture.runtime.database.read { db in try await db.raw("SELECT * FROM request_log").all() }
            let columns = [
                "id", "tenant_id", "kind", "app_id", "external_user_id", "connection_id", "integration_key", "credential_id", "error_code",
            ]
            let dump = try stored.flatMap { row in try columns.map { try row.decode(column: $0, as: String?.self) ?? "" } }.joined(separator: " ")
            for secret in [accessToken, fixture.adminKey, "fake-client-secret"] {
                #expect(!listed.text.contains(secret))
                #expect(!dump.contains(secret))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func connectCallsAreLoggedWithTheAppItsUserAndNeverTheSessionToken(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (client, fixture) = (world.client, world.fixture)
            let headers = AppsAPITests.appHeaders(world.app.key)
            var tokens: [String] = []
            // A person connects through a session; the app then reads it, lists, reconnects and disconnects.
            let created = try await ConnectSessionsAPITests.create(
                client,
                key: world.app.key,
                ["externalUserId": "user_sarah_123", "integration": "github", "redirectUrl": "https://derek.example/back"]
            )
            let id = try #require(try created.json["id"] as? String)
            let token = try #require(try created.json["token"] as? String)
            tokens.append(token)
            let browser = WebBrowser(client)
            _ = try await browser.get("/connect/\(token)")
            let started = try await browser.post("/connect/\(token)", csrf: false)
            let callback = try await world.fake.authorize(url: try #require(started.location.flatMap(URL.init(string:))))
            _ = try await browser.get(WebBrowser.pathAndQuery(callback))
            world.clock.advance(by: 1)
            let read = try await client.execute(uri: "/api/v1/connect/sessions/\(id)", method: .get, headers: headers)
            let connectionID = try #require(try read.json["connectionId"] as? String)
            world.clock.advance(by: 1)
            let users = "/api/v1/connect/users/user_sarah_123/connections"
            #expect(try await client.execute(uri: users, method: .get, headers: headers).status == .ok)
            world.clock.advance(by: 1)
            let reconnect = try await client.execute(uri: "\(users)/\(connectionID)/reconnect", method: .post, headers: headers)
            #expect(reconnect.status == .created)
            tokens.append(try #require(try reconnect.json["token"] as? String))
            world.clock.advance(by: 1)
            #expect(try await client.execute(uri: "\(users)/\(connectionID)", method: .delete, headers: headers).status == .noContent)
            world.clock.advance(by: 1)
            let unknown = try await client.execute(uri: "/api/v1/connect/sessions/\(NewID.make())", method: .get, headers: headers)
            #expect(unknown.status == .notFound)

            let listed = try await Self.list(client, fixture, "?kind=connect")
            let entries = try Self.items(listed)
            try #require(entries.count == 6)
            for entry in entries {
                #expect(entry["kind"] as? String == "connect" && entry["appId"] as? String == world.app.id)
                #expect((entry["latencyMs"] as? Int ?? -1) >= 0)
            }
            let (missing, deleted, reconnected, list, shown, create) = (entries[0], entries[1], entries[2], entries[3], entries[4], entries[5])
            #expect(missing["status"] as? Int == 404 && missing["errorCode"] as? String == "not_found")
            for entry in [deleted, reconnected, shown, create] {
                #expect(entry["externalUserId"] as? String == "user_sarah_123", "\(entry)")
                #expect(entry["connectionId"] as? String == connectionID && entry["integration"] as? String == "github", "\(entry)")
            }
            #expect(create["status"] as? Int == 201 && shown["status"] as? Int == 200 && list["status"] as? Int == 200)
            #expect(list["externalUserId"] as? String == "user_sarah_123")
            #expect(reconnected["status"] as? Int == 201 && deleted["status"] as? Int == 204)

            // Never a session token (nor the app's key): not in the answer, not in any column.
            let stored = try await fixture.runtime.database.read { db in try await db.raw("SELECT * FROM request_log").all() }
            let columns = [
                "id", "tenant_id", "kind", "app_id", "external_user_id", "connection_id", "integration_key", "credential_id", "error_code",
            ]
            let dump = try stored.flatMap { row in try columns.map { try row.decode(column: $0, as: String?.self) ?? "" } }.joined(separator: " ")
            #expect(!listed.text.contains("lk_cs_") && !dump.contains("lk_cs_"))
            for secret in tokens + [world.app.key] {
                #expect(!listed.text.contains(secret) && !dump.contains(secret))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theListFiltersPagesAndRefusesWhatItDoesNotKnow(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let app = "0b9f6a2e-7a55-4f3e-9a39-5b8f0c1d2e3f"
            let other = try await fixture.runtime.tenants.createTenant(slug: "other", name: "Other", actor: .cli)
            var entries: [RequestLogEntry] = []
            for i in 0..<12 {
                entries.append(
                    RequestLogEntry(
                        id: NewID.make(),
                        tenantID: fixture.tenantID,
                        time: start.addingTimeInterval(Double(i * 60)),
                        kind: i % 3 == 0 ? .connect : .token,
                        appID: i % 2 == 0 ? app : nil,
                        externalUserID: "user-\(i % 4)",
                        integrationKey: i < 6 ? "gitlab" : "slack",
                        status: i % 4 == 3 ? 409 : 200,
                        errorCode: i % 4 == 3 ? "not_connected" : nil,
                        latencyMilliseconds: i
                    )
                )
            }
            entries.append(
                RequestLogEntry(id: NewID.make(), tenantID: other.id, time: start, kind: .token, status: 200, latencyMilliseconds: 1)
            )
            try await RequestLogRepository(database: fixture.runtime.database).insert(entries)

            func latencies(_ query: String) async throws -> [Int] {
                let response = try await Self.list(client, fixture, query)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return try Self.items(response).compactMap { $0["latencyMs"] as? Int }
            }
            // Newest first; another tenant's entries never show.
            #expect(try await latencies("") == Array((0..<12).reversed()))
            #expect(try await latencies("?kind=connect") == [9, 6, 3, 0])
            #expect(try await latencies("?appId=\(app.uppercased())") == [10, 8, 6, 4, 2, 0])
            #expect(try await latencies("?integration=slack&status=4xx") == [11, 7])
            #expect(try await latencies("?status=2xx&externalUserId=user-1") == [9, 5, 1])
            #expect(try await latencies("?since=2027-01-15T08:05:00Z&until=2027-01-15T08:08:00Z") == [7, 6, 5])

            // Pages follow one another without gap or repeat.
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let query = "?limit=5" + (cursor.map { "&cursor=\($0)" } ?? "")
                let response = try await Self.list(client, fixture, query)
                seen += try Self.items(response).compactMap { $0["latencyMs"] as? Int }
                cursor = try response.json["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == Array((0..<12).reversed()))

            for query in [
                "?kind=webhook", "?appId=42", "?status=200", "?integration=", "?externalUserId=", "?since=yesterday",
                "?since=2027-01-15T08:05:00Z&until=2027-01-15T08:05:00Z", "?cursor=%21%21", "?limit=0", "?app=x",
            ] {
                let response = try await Self.list(client, fixture, query)
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.errorCode == "invalid_request")
            }
            #expect(try await client.execute(uri: "/api/v1/requests", method: .get).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func entriesOlderThanTheRetentionArePurgedOnTheClock(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime in
            let repository = RequestLogRepository(database: runtime.database)
            let day: TimeInterval = 86_400
            let ages: [TimeInterval] = [31 * day, 30 * day + 60, 29 * day, 1 * day]
            try await repository.insert(
                ages.map { age in
                    RequestLogEntry(
                        id: NewID.make(),
                        tenantID: runtime.defaultTenant.id,
                        time: clock.now.addingTimeInterval(-age),
                        // Connect calls are kept as long as token calls.
                        kind: age == 29 * day ? .connect : .token,
                        status: 200,
                        latencyMilliseconds: Int(age / day)
                    )
                }
            )
            func kept() async throws -> [Int] {
                try await repository.page(tenantID: runtime.defaultTenant.id, filter: .init(), limit: 50, cursor: nil).items
                    .map(\.latencyMilliseconds)
            }
            let service = RequestLogPurgeService(
                repository: repository,
                retentionDays: runtime.configuration.requestLogRetentionDays,
                interval: .seconds(3600),
                batchSize: 1,
                clock: clock,
                logger: runtime.logger
            )
            let running = Task { try await service.run() }
            // The first pass runs at start, then the service waits for the clock.
            while clock.sleeperCount < 1 { await Task.yield() }
            #expect(try await kept() == [1, 29])
            // Two days on, the next pass finds the 29-day-old entry past the retention.
            clock.advance(by: 2 * day)
            while clock.sleeperCount < 1 { await Task.yield() }
            #expect(try await kept() == [1])
            running.cancel()
            _ = try? await running.value
        }
    }

    @Test func theRetentionIsASettingOfDays() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.requestLogRetentionDays == 30)
        try configuration.applyEnvironment(["LATCHKEY_REQUEST_LOG_RETENTION_DAYS": "7"])
        #expect(configuration.requestLogRetentionDays == 7)
        for value in ["0", "seven", "3651"] {
            #expect(throws: ConfigurationError.self) { try configuration.applyEnvironment(["LATCHKEY_REQUEST_LOG_RETENTION_DAYS": value]) }
        }
    }
}
