import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyGateway
import LatchkeyHTTPTesting
import LatchkeyOAuthClient
import LatchkeyStorage
import LatchkeyTesting
import SQLKit
import Testing

/// Tools that answer from synced data (`github.find_repo`): the caller's own records, matched by the input, without
/// a provider call; a dataset that is off or not synced yet is an error that says what to do.
@Suite("Tools that answer from synced data")
struct DatasetToolsTests {
    typealias World = HostedConnectPageTests.World
    typealias Sync = ReferenceDataSyncTests

    static func repo(_ id: Int, _ name: String, private: Bool = false) -> JSONValue {
        .object([
            "id": .integer(Int64(id)), "full_name": .string(name), "private": .bool(`private`),
            "updated_at": .string("2026-01-01T00:00:00Z"),
        ])
    }

    static func find(_ world: World, user: String, _ input: [String: Any]) async throws -> TestResponse {
        try await ToolInvokeAPITests.invoke(
            world.client,
            AppsAPITests.appHeaders(world.app.key),
            ["tool": "github.find_repo", "input": input, "externalUserId": user]
        )
    }

    static func names(_ response: TestResponse) throws -> [String] {
        let result = try #require(try response.json["result"] as? [String: Any], "\(response.text)")
        return try #require(result["items"] as? [[String: Any]]).compactMap { $0["full_name"] as? String }
    }

    /// Runs the sync passes that plan a newly connected credential's job and then run it.
    static func syncNewcomer(_ world: World, _ service: SyncService) async throws {
        try await service.runOnce()
        world.clock.advance(by: 901)
        let report = try await service.runOnce()
        #expect(report.completed == 1, "\(report)")
    }

    @Test(arguments: TestDatabases.kinds)
    func findRepoAnswersFromTheCallersOwnRecordsWithoutCallingGitHub(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (sarah, connection) = try await ConnectUsersAPITests.connect(world, user: "sarah")
            await world.fake.serve(
                dataset: "github.repos",
                records: [
                    Self.repo(1, "sarah/alpha-tools"), Self.repo(2, "sarah/alpha", private: true), Self.repo(3, "sarah/beta", private: true),
                ]
            )
            let set = try await Sync.setSync(world, connection: connection, ["github.repos": ["enabled": true]])
            #expect(set.status == .ok, "\(set.text)")
            let service = Sync.syncService(world)
            try await Self.syncNewcomer(world, service)
            // Ken connects later; GitHub lists him other repositories.
            _ = try await ConnectUsersAPITests.connect(world, user: "ken")
            await world.fake.serve(dataset: "github.repos", records: [Self.repo(10, "ken/gamma"), Self.repo(11, "ken/alpha-notes")])
            try await Self.syncNewcomer(world, service)
            await world.fake.clearRequests()

            // Exact matches first, case ignored; then the others in key order.
            let found = try await Self.find(world, user: "sarah", ["name": "SARAH/ALPHA"])
            #expect(found.status == .ok, "\(found.text)")
            #expect(try Self.names(found) == ["sarah/alpha", "sarah/alpha-tools"])
            let result = try #require(try found.json["result"] as? [String: Any])
            #expect(result["more"] as? Bool == false && result["syncedAt"] is String)
            let item = try #require((result["items"] as? [[String: Any]])?.first)
            #expect(Set(item.keys) == ["id", "full_name", "private", "updated_at"], "the dataset's fields")
            let meta = try #require(try found.json["meta"] as? [String: Any])
            #expect(meta["dataset"] as? String == "github.repos" && meta["credentialId"] as? String == sarah && meta["status"] as? Int == 200)

            let first = try await Self.find(world, user: "sarah", ["name": "alpha", "limit": 1])
            #expect(try Self.names(first) == ["sarah/alpha-tools"])
            #expect((try first.json["result"] as? [String: Any])?["more"] as? Bool == true)
            #expect(try Self.names(try await Self.find(world, user: "sarah", ["name": "sarah", "private": true])) == ["sarah/alpha", "sarah/beta"])
            #expect(try Self.names(try await Self.find(world, user: "sarah", ["name": "gamma"])).isEmpty)

            // Each person reads only their own records.
            #expect(try Self.names(try await Self.find(world, user: "ken", ["name": "alpha"])) == ["ken/alpha-notes"])
            #expect(try Self.names(try await Self.find(world, user: "ken", ["name": "sarah"])).isEmpty)

            // No call reached GitHub.
            #expect(await world.fake.requests.isEmpty)

            // Audited like a tool call: whose credential, which tool and dataset.
            let audited = try await AppsAPITests.auditActions(world.client, world.fixture, "credential.data_read")
            #expect(audited.count == 6)
            #expect(audited.allSatisfy { $0["tool"] as? String == "github.find_repo" && $0["service"] as? String == "github" })
            #expect(audited.contains { $0["target"] as? String == sarah })
            // Logged as a tool call.
            let logged = try RequestLogTests.items(try await RequestLogTests.list(world.client, world.fixture, "?kind=tool"))
            #expect(logged.count == 6 && logged.allSatisfy { $0["tool"] as? String == "github.find_repo" && $0["status"] as? Int == 200 })

            // Listed like the other tools, naming the dataset it reads.
            let listed = try await world.client.execute(uri: "/api/v1/tools", method: .get, headers: AppsAPITests.appHeaders(world.app.key))
            let tools = try #require(try listed.json["items"] as? [[String: Any]])
            let findRepo = try #require(tools.first { $0["name"] as? String == "github.find_repo" })
            #expect(findRepo["dataset"] as? String == "github.repos" && findRepo["readOnly"] as? Bool == true)
            #expect(tools.first { $0["name"] as? String == "github.list_repos" }?["dataset"] == nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aDatasetOffOrNotSyncedYetIsAnErrorThatSaysWhatToDo(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (sarah, connection) = try await ConnectUsersAPITests.connect(world, user: "sarah")
            await world.fake.serve(dataset: "github.repos", records: [Self.repo(1, "sarah/alpha")])
            await world.fake.clearRequests()

            // Off for the Connection: not an empty list, but what to turn on and where.
            var answer = try await Self.find(world, user: "sarah", ["name": "alpha"])
            #expect(answer.status == .conflict, "\(answer.text)")
            var error = try ToolInvokeAPITests.error(answer)
            #expect(error["code"] as? String == "conflict")
            #expect((error["message"] as? String)?.contains("github.repos") == true)
            #expect((error["message"] as? String)?.contains("is off") == true)
            var action = try #require(error["action"] as? [String: Any])
            #expect(action["type"] as? String == "enable_sync")
            #expect((action["url"] as? String)?.hasSuffix("/api/v1/connections/\(connection)/sync") == true)

            // On, but no job yet; then planned; the message says where the sync stands.
            _ = try await Sync.setSync(world, connection: connection, ["github.repos": ["enabled": true]])
            answer = try await Self.find(world, user: "sarah", ["name": "alpha"])
            error = try ToolInvokeAPITests.error(answer)
            #expect(answer.status == .conflict)
            #expect((error["action"] as? [String: Any])?["type"] as? String == "wait_for_sync")
            #expect((error["message"] as? String)?.contains("has not been synced yet") == true)
            #expect((error["message"] as? String)?.contains("not been planned") == true)
            let service = Sync.syncService(world)
            try await service.runOnce()
            answer = try await Self.find(world, user: "sarah", ["name": "alpha"])
            error = try ToolInvokeAPITests.error(answer)
            #expect((error["message"] as? String)?.contains("first sync is due at") == true, "\(answer.text)")
            #expect(answer.headers[.retryAfter] != nil)

            // Synced: the answer.
            world.clock.advance(by: 901)
            #expect(try await service.runOnce().completed == 1)
            await world.fake.clearRequests()
            #expect(try Self.names(try await Self.find(world, user: "sarah", ["name": "alpha"])) == ["sarah/alpha"])

            // Turned off again: the records kept are not served as if current.
            _ = try await Sync.setSync(world, connection: connection, ["github.repos": ["enabled": false]])
            answer = try await Self.find(world, user: "sarah", ["name": "alpha"])
            #expect(answer.status == .conflict)
            #expect((try ToolInvokeAPITests.error(answer)["action"] as? [String: Any])?["type"] as? String == "enable_sync")
            _ = try await Sync.setSync(world, connection: connection, ["github.repos": ["enabled": true]])

            // The same answers as any tool when the credential needs re-authorisation or nothing is connected.
            _ = try await world.fixture.runtime.vault.update(
                id: sarah,
                tenantID: world.fixture.tenantID,
                changes: .init(status: .needsReauth),
                actor: .cli
            )
            answer = try await Self.find(world, user: "sarah", ["name": "alpha"])
            error = try ToolInvokeAPITests.error(answer)
            #expect(answer.status == .conflict && error["code"] as? String == "needs_reauth", "\(answer.text)")
            action = try #require(error["action"] as? [String: Any])
            #expect(action["type"] as? String == "reconnect")
            #expect((action["url"] as? String)?.hasSuffix("/api/v1/connect/users/sarah/connections/\(connection)/reconnect") == true)
            answer = try await Self.find(world, user: "nobody", ["name": "alpha"])
            #expect(try ToolInvokeAPITests.error(answer)["code"] as? String == "not_connected")
            // Bad input is refused field by field, as for any tool.
            answer = try await Self.find(world, user: "sarah", ["name": "alpha", "limit": 0])
            #expect(answer.status == .badRequest)
            #expect(answer.text.contains("input.limit"))

            #expect(await world.fake.requests.isEmpty)
        }
    }

    /// Stores `records` as the complete first sync of `dataset` for the tenant's one credential, as the sync service
    /// would; answers the credential's id.
    static func seed(_ fixture: TestFixture, dataset: String, _ records: [(String, JSONValue)]) async throws -> String {
        let runtime = fixture.runtime
        let store = runtime.syncStore
        let rows = try await runtime.database.read { db in
            try await db.raw("SELECT id, connection_id FROM credentials").all()
        }
        try #require(rows.count == 1)
        let row = rows.first
        let credential = try #require(try row?.decode(column: "id", as: String.self))
        let connection = try #require(try row?.decode(column: "connection_id", as: String.self))
        let now = runtime.clock.now
        let setting = SyncSetting(dataset: dataset, enabled: true, intervalSeconds: SyncSetting.defaultIntervalSeconds, updatedAt: now)
        try await store.save(settings: [setting], connectionID: connection, tenantID: fixture.tenantID)
        for unplanned in try await store.unplanned(limit: 10) { try await store.plan(unplanned, firstRunAt: now, now: now) }
        var job = try #require(try await store.claimDue(now: now, owner: "seed", until: now.addingTimeInterval(60), limit: 10).first)
        let page = records.map { SyncRecord(key: $0.0, payload: Data(ToolJSON.bytes($0.1)), updatedAt: now) }
        try await store.savePage(page, job: job, owner: "seed", until: now.addingTimeInterval(60))
        job.status = .ok
        job.lastSuccessAt = now
        _ = try await store.finish(job, owner: "seed", fullRun: false, now: now)
        return credential
    }

    @Test(arguments: TestDatabases.kinds)
    func theMCPServerListsAndCallsItAsThePersonWithoutCallingTheProvider(kind: TestDatabases.Kind) async throws {
        try await MCPEndpointTests.with(kind) { client, fixture, upstream in
            _ = try await Self.seed(
                fixture,
                dataset: "github.repos",
                [("7", Self.repo(7, "octo/hello")), ("8", Self.repo(8, "octo/world"))]
            )
            let session = try await MCPEndpointTests.initialize(client)
            let listed = try MCPToolsEndpointTests.toolNames(
                try await MCPEndpointTests.post(client, ["id": 2, "method": "tools/list"], session: session)
            )
            #expect(listed.contains("github.find_repo"))
            let response = try await MCPEndpointTests.post(
                client,
                ["id": 3, "method": "tools/call", "params": ["name": "github.find_repo", "arguments": ["name": "HELLO"]]],
                session: session
            )
            let result = try MCPEndpointTests.result(response)
            #expect(result["isError"] as? Bool == false, "\(response.text)")
            let items = try #require((result["structuredContent"] as? [String: Any])?["items"] as? [[String: Any]])
            #expect(items.compactMap { $0["full_name"] as? String } == ["octo/hello"])
            #expect(await upstream.requests.isEmpty)

            // Another person of the tenant with nothing connected gets the usual connect link, not an empty list.
            let dave = try await MCPEndpointTests.initialize(client, token: "dave-mcp-token")
            let refused = try MCPEndpointTests.result(
                try await MCPEndpointTests.post(
                    client,
                    ["id": 4, "method": "tools/call", "params": ["name": "github.find_repo", "arguments": ["name": "hello"]]],
                    token: "dave-mcp-token",
                    session: dave
                )
            )
            #expect(refused["isError"] as? Bool == true)
            #expect(await upstream.requests.isEmpty)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func findUserMatchesAnEmailAddressInsideTheProfileAndEachDatasetIsCheckedOnItsOwn(kind: TestDatabases.Kind) async throws {
        try await TestApp.with(kind) { client, fixture in
            try await ToolsAPITests.createIntegration(client, fixture.headers, "slack")
            let imported = try await client.execute(
                uri: "/api/v1/credentials",
                method: .post,
                headers: fixture.headers,
                body: try body([
                    "integration": "slack", "type": "oauth2", "accessToken": "xoxp-sarah", "externalUserId": "sarah",
                    "scopes": ["users:read", "users:read.email", "channels:read"],
                ])
            )
            #expect(imported.status == .created, "\(imported.text)")
            func user(_ id: String, _ name: String, _ email: String) -> (String, JSONValue) {
                (
                    id,
                    .object([
                        "id": .string(id), "name": .string(name), "real_name": .string(name.capitalized),
                        "profile": .object(["email": .string(email)]),
                    ])
                )
            }
            _ = try await Self.seed(
                fixture,
                dataset: "slack.users",
                [user("U1", "ken", "ken@acme.example"), user("U2", "kenny", "kenny@acme.example"), user("U3", "sarah", "sarah@acme.example")]
            )
            func find(_ tool: String, _ input: [String: Any]) async throws -> [[String: Any]] {
                let response = try await ToolInvokeAPITests.invoke(
                    client,
                    fixture.headers,
                    ["tool": tool, "input": input, "externalUserId": "sarah"]
                )
                #expect(response.status == .ok, "\(response.text)")
                return try #require((try response.json["result"] as? [String: Any])?["items"] as? [[String: Any]])
            }
            #expect(try await find("slack.find_user", ["query": "KEN@acme.example"]).compactMap { $0["id"] as? String } == ["U1"])
            #expect(try await find("slack.find_user", ["query": "ken"]).compactMap { $0["id"] as? String } == ["U1", "U2"])
            #expect(try await find("slack.find_user", ["query": "Kenny"]).compactMap { $0["id"] as? String } == ["U2"])
            // The channels are another dataset, off for this Connection.
            let channels = try await ToolInvokeAPITests.invoke(
                client,
                fixture.headers,
                ["tool": "slack.find_channel", "input": ["name": "general"], "externalUserId": "sarah"]
            )
            #expect(channels.status == .conflict)
            #expect((try ToolInvokeAPITests.error(channels)["action"] as? [String: Any])?["type"] as? String == "enable_sync")
        }
    }

    /// The Connection's shared credential is synced too, into records of its own: a person with an account of their
    /// own reads theirs, a person without one and a call naming nobody read the shared account's (DESIGN §2), and
    /// neither set of records leaks into the other.
    @Test(arguments: TestDatabases.kinds)
    func theSharedCredentialsRecordsAreKeptApartFromEachPersons(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (sarah, connection) = try await ConnectUsersAPITests.connect(world, user: "sarah")
            await world.fake.serve(dataset: "github.repos", records: [Self.repo(1, "sarah/alpha"), Self.repo(2, "sarah/beta")])
            let set = try await Sync.setSync(world, connection: connection, ["github.repos": ["enabled": true]])
            #expect(set.status == .ok, "\(set.text)")
            let service = Sync.syncService(world)
            try await Self.syncNewcomer(world, service)

            // The app's shared account (an imported token), which GitHub lists other repositories for.
            await world.fake.acceptAccessTokens(["shared-team-token"])
            let shared = try await world.fixture.runtime.vault.create(
                .init(
                    integration: "github",
                    externalUserID: nil,
                    connectionID: connection,
                    type: .oauth2,
                    secret: CredentialSecret(accessToken: "shared-team-token")
                ),
                tenantID: world.fixture.tenantID,
                actor: .cli
            )
            await world.fake.serve(dataset: "github.repos", records: [Self.repo(50, "team/alpha-shared"), Self.repo(51, "team/handbook")])
            try await Self.syncNewcomer(world, service)
            let jobs = try await world.fixture.runtime.syncStore.jobs(connectionID: connection)
            #expect(Set(jobs.map(\.credentialID)) == [sarah, shared.id] && jobs.allSatisfy { $0.status == .ok && $0.recordCount == 2 })
            await world.fake.clearRequests()

            // Sarah reads her own account's records, never the shared ones.
            let hers = try await Self.find(world, user: "sarah", ["name": "alpha"])
            #expect(try Self.names(hers) == ["sarah/alpha"])
            #expect((try hers.json["meta"] as? [String: Any])?["credentialId"] as? String == sarah)
            // Ken has no account of his own: he gets the shared account's, as a token would be.
            let kens = try await Self.find(world, user: "ken", ["name": "alpha"])
            #expect(try Self.names(kens) == ["team/alpha-shared"], "\(kens.text)")
            #expect((try kens.json["meta"] as? [String: Any])?["credentialId"] as? String == shared.id)
            #expect(try Self.names(try await Self.find(world, user: "ken", ["name": "sarah"])).isEmpty)
            // A call that names nobody is the shared account's.
            let nobody = try await ToolInvokeAPITests.invoke(
                world.client,
                AppsAPITests.appHeaders(world.app.key),
                ["tool": "github.find_repo", "input": ["name": "handbook"]]
            )
            #expect(try Self.names(nobody) == ["team/handbook"], "\(nobody.text)")
            #expect(await world.fake.requests.isEmpty)
        }
    }

    /// A provider that lists one record twice in a page (a list that moved while it was paged) leaves one record, its
    /// last copy: each page is stored in one statement, which PostgreSQL refuses when it touches a row twice.
    @Test(arguments: TestDatabases.kinds)
    func aRecordListedTwiceInAPageIsStoredOnceWithItsLastCopy(kind: TestDatabases.Kind) async throws {
        try await HostedConnectPageTests.withWorld(kind) { world in
            let (sarah, connection) = try await ConnectUsersAPITests.connect(world, user: "sarah")
            await world.fake.serve(
                dataset: "github.repos",
                records: [Self.repo(1, "sarah/old-name"), Self.repo(2, "sarah/beta"), Self.repo(1, "sarah/new-name")]
            )
            _ = try await Sync.setSync(world, connection: connection, ["github.repos": ["enabled": true]])
            try await Self.syncNewcomer(world, Sync.syncService(world))
            let job = try #require(try await world.fixture.runtime.syncStore.job(credentialID: sarah, dataset: "github.repos"))
            #expect(job.status == .ok && job.recordCount == 2, "\(job)")
            #expect(try Self.names(try await Self.find(world, user: "sarah", ["name": "sarah"])) == ["sarah/new-name", "sarah/beta"])
        }
    }
}
