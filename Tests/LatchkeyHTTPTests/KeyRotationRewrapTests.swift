import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyHTTPTesting
import LatchkeyLifecycle
import LatchkeyOAuthClient
import LatchkeyProviders
import LatchkeyTesting
import SQLKit
import Testing

@testable import LatchkeyStorage

/// A data-key rotation moves every sealed value to the new key, not only credentials: the integration's and an app's
/// OAuth client secrets, the tenant's and an app's webhook signing secrets, connect sessions' verifiers and tokens.
/// Then the old key can be retired, and everything still works without it.
@Suite("Key rotation re-wraps every secret")
struct KeyRotationRewrapTests {
    static let catalog = try! ProviderCatalog.bundled()

    /// Every sealed value of every table: its table and column, the version its header names, the version its row
    /// records (when the table has such a column), and whether the keyring opens it.
    static func sealedValues(_ runtime: LatchkeyRuntime) async throws -> [(name: String, header: Int, recorded: Int?, opens: Bool)] {
        var values: [(name: String, header: Int, recorded: Int?, opens: Bool)] = []
        let repository = SealedColumnRepository(database: runtime.database)
        for column in SealedColumn.all {
            let recorded = try await runtime.database.read { db in
                try await db.raw(
                    "SELECT id, \(unsafeRaw: column.versionColumn ?? "NULL") AS v FROM \(unsafeRaw: column.table) WHERE \(unsafeRaw: column.column) IS NOT NULL"
                ).all().map { (try $0.decode(column: "id", as: String.self), try $0.decode(column: "v", as: Int?.self)) }
            }
            let versions = Dictionary(uniqueKeysWithValues: recorded)
            for value in try await repository.batch(column, below: Int(Int32.max), after: "", limit: 1000) {
                let opens = (try? runtime.keyring.open(value.sealed, context: value.context)) != nil
                values.append((column.name, try Keyring.keyVersion(of: value.sealed), versions[value.id] ?? nil, opens))
            }
        }
        let payloads = try await runtime.database.read { db in
            try await db.raw("SELECT key_version, payload FROM credentials").all().map {
                (try $0.decode(column: "key_version", as: Int.self), try $0.decode(column: "payload", as: Data.self))
            }
        }
        for (recorded, payload) in payloads {
            values.append(("credentials.payload", try Keyring.keyVersion(of: payload), recorded, true))
        }
        return values
    }

    @Test(arguments: TestDatabases.kinds)
    func afterRotationEverySealedValueIsOnTheNewKeyAndWorksWithTheOldOneRetired(kind: TestDatabases.Kind) async throws {
        let clock = TestClock()
        let gitlab = try FakeProvider(
            provider: try #require(Self.catalog.provider(id: "gitlab")),
            clientID: "app-client-id",
            clientSecret: "app-client-secret",
            clock: clock
        )
        let github = try FakeProvider(
            provider: try #require(Self.catalog.provider(id: "github")),
            clientID: "integration-client-id",
            clientSecret: "integration-client-secret",
            clock: clock
        )
        let network = FakeNetwork([gitlab, github])
        try await TestApp.with(kind, clock: clock, transport: network) { client, fixture in
            let runtime = fixture.runtime
            let tenantID = fixture.tenantID
            for key in ["github", "gitlab"] {
                _ = try await runtime.integrations.create(
                    .init(key: key, provider: key, clientID: "integration-client-id", clientSecret: "integration-client-secret"),
                    tenantID: tenantID,
                    actor: .cli
                )
            }
            // One of each secret kind, all under data key 1.
            let console = try #require(try await runtime.tenants.directory.consoleApp(tenantID: tenantID))
            #expect(try await AppOAuthClientTests.setConfig(client, fixture, appID: console.id).status == .created)
            let (appID, appKey) = try await AppsAPITests.createApp(client, fixture)
            let appHook = try await AppWebhooksAPITests.put(client, fixture, "/api/v1/apps/\(appID)/webhook", url: "https://app.example/hook")
            let appSecret = try #require(try appHook.json["secret"] as? String)
            let tenantHook = try await AppWebhooksAPITests.put(client, fixture, "/api/v1/webhooks", url: "https://tenant.example/hook")
            let tenantSecret = try #require(try tenantHook.json["secret"] as? String)
            let session = try await ConnectSessionsAPITests.create(client, key: appKey, ["externalUserId": "sarah", "integration": "github"])
            #expect(session.status == .created)
            let imported = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "bob", type: .apiKey, secret: .init(apiKey: "k_bob")),
                tenantID: tenantID,
                actor: .cli
            )
            let user = try await runtime.tenants.createUser(
                tenantID: tenantID,
                email: "sarah@example.com",
                displayName: "Sarah",
                passwordHash: "not used",
                isAdmin: false,
                actor: .cli
            )
            let outbound = runtime.outboundServices(transport: network)
            // A connect through the console app's own client, begun before the rotation (its PKCE verifier sealed
            // under key 1) and finished after it.
            guard
                case .redirect(let pending, service: _) = try await outbound.connect.start(
                    user: user,
                    key: "gitlab",
                    browserID: "b1",
                    form: nil,
                    reconnect: nil
                )
            else {
                Issue.record("GitLab did not redirect to the provider")
                return
            }
            let before = try await Self.sealedValues(runtime)
            #expect(
                Set(before.map(\.name)) == [
                    "credentials.payload", "integrations.client_secret", "app_integration_configs.client_secret", "webhook_endpoints.secret",
                    "connect_sessions.verifier", "app_connect_sessions.token_sealed", "audit_person_keys.sealed_key",
                ]
            )
            #expect(before.allSatisfy { $0.header == 1 && $0.opens })

            let version = try await runtime.keyManager.rotate(runtime.keyring)
            #expect(version == 2)
            let refused = await #expect(throws: KeyError.self) { try await runtime.keyManager.retire(runtime.keyring, version: 1) }
            #expect(refused?.description.contains("still seals \(before.count) stored value(s)") == true)

            // Re-wrap in batches of one; a second process (fresh keyring) takes over half-way, as after a kill.
            var configuration = runtime.configuration.rewrap
            configuration.batchSize = 1
            let first = KeyRewrapService(
                database: runtime.database,
                keyring: runtime.keyring,
                keyManager: runtime.keyManager,
                configuration: configuration,
                clock: clock,
                logger: runtime.logger
            )
            for _ in 0..<2 { #expect(try await first.runBatch() > 0) }
            let partway = try await runtime.database.read { db in
                try await db.raw("SELECT id, cursor, done FROM key_rewrap WHERE id = 'integrations.client_secret'").first()
            }
            #expect(try partway?.decode(column: "done", as: Int.self) == 1)
            #expect(try partway?.decode(column: "cursor", as: String.self).isEmpty == false)
            let reopened = try await KeyManager(
                database: runtime.database,
                provider: runtime.configuration.keyProvider,
                clock: clock,
                logger: runtime.logger
            )
            .open()
            let second = KeyRewrapService(
                database: runtime.database,
                keyring: reopened.keyring,
                keyManager: runtime.keyManager,
                configuration: configuration,
                clock: clock,
                logger: runtime.logger
            )
            var batches = 2
            while try await second.runBatch() > 0 { batches += 1 }
            #expect(batches == before.count)
            #expect(try await second.runBatch() == 0)

            let after = try await Self.sealedValues(runtime)
            #expect(after.count == before.count)
            for value in after {
                #expect(value.header == 2 && (value.recorded ?? 2) == 2 && value.opens, "\(value.name)")
            }
            #expect(try await runtime.keyManager.status().rowsByVersion == [2: before.count])
            try await runtime.keyManager.retire(runtime.keyring, version: 1)
            #expect(runtime.keyring.versions == [2])
            let active = await #expect(throws: KeyError.self) { try await runtime.keyManager.retire(runtime.keyring, version: 2) }
            #expect(active?.description.contains("is the active one") == true)
            let unknown = await #expect(throws: KeyError.self) { try await runtime.keyManager.retire(runtime.keyring, version: 1) }
            #expect(unknown?.description.contains("is not in the keyring") == true)

            // Without key 1 every secret still works: the connect begun before finishes with the app's client,
            let callback = try await gitlab.authorize(url: pending)
            let items = URLComponents(url: callback, resolvingAgainstBaseURL: false)?.queryItems ?? []
            let throughApp = try await outbound.connect.complete(
                query: items.map { (name: $0.name, value: $0.value ?? "") },
                browserID: "b1",
                signedInUser: user
            )
            #expect(throughApp.credential.issuedBy == "app:\(console.id)")
            // a new connect uses the integration's client,
            guard
                case .redirect(let viaIntegration, service: _) = try await outbound.connect.start(
                    user: user,
                    key: "github",
                    browserID: "b2",
                    form: nil,
                    reconnect: nil
                )
            else {
                Issue.record("GitHub did not redirect to the provider")
                return
            }
            let integrationCallback = try await github.authorize(url: viaIntegration)
            let integrationItems = URLComponents(url: integrationCallback, resolvingAgainstBaseURL: false)?.queryItems ?? []
            let connected = try await outbound.connect.complete(
                query: integrationItems.map { (name: $0.name, value: $0.value ?? "") },
                browserID: "b2",
                signedInUser: user
            )
            #expect(connected.credential.status == .active)
            let exchanges = (await gitlab.exchangeCount, await github.exchangeCount)
            #expect(exchanges == (1, 1))
            // the stored credential reveals,
            #expect(try await runtime.vault.reveal(id: imported.id, tenantID: tenantID, actor: .cli).1.apiKey == "k_bob")
            // and both webhook endpoints sign with the secrets they were given.
            try await runtime.webhooks.enqueue(
                type: WebhookEventType.connectSessionCompleted.rawValue,
                tenantID: tenantID,
                data: ["appId": .string(appID), "sessionId": "s1", "externalUserId": "sarah"]
            )
            let receiver = FakeWebhookReceiver()
            let delivery = runtime.webhookDeliveryService(transport: receiver, configuration: .init(batchSize: 100, jitter: 0))
            #expect(try await delivery.runOnce() > 0)
            let requests = await receiver.requests
            for (host, secret) in [("app.example", appSecret), ("tenant.example", tenantSecret)] {
                let signed = requests.filter { $0.url.host == host }
                #expect(!signed.isEmpty, "\(host)")
                for request in signed {
                    let header = try #require(request.header(WebhookSignature.headerName))
                    #expect(WebhookSignature.verify(header: header, secret: secret, body: try #require(request.body), now: clock.now), "\(host)")
                }
            }
        }
    }
}
