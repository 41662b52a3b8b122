import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// The request log's writer takes entries without making callers wait and writes them in batches.
@Suite("Request log writer")
struct RequestLogWriterTests {
    @Test(arguments: TestDatabases.kinds)
    func entriesRecordedAtOnceAreAllWrittenInBatchesWithTheirApp(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenant = runtime.defaultTenant.id
            let credential = try await runtime.vault.create(
                .init(integration: "github", externalUserID: "alice", type: .oauth2, secret: .init(accessToken: "gho_one")),
                tenantID: tenant,
                actor: .cli
            )
            let console = try #require(try await runtime.tenants.directory.consoleApp(tenantID: tenant))
            let writer = RequestLogWriter(database: runtime.database, logger: runtime.logger, maximumBatch: 25)
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<120 {
                    group.addTask {
                        writer.record(
                            RequestLogEntry(
                                id: NewID.make(),
                                tenantID: tenant,
                                time: runtime.clock.now.addingTimeInterval(Double(i)),
                                kind: .token,
                                connectionID: i.isMultiple(of: 2) ? credential.connectionID : nil,
                                status: 200,
                                latencyMilliseconds: i
                            )
                        )
                    }
                }
            }
            await writer.flush()
            let page = try await RequestLogRepository(database: runtime.database).page(tenantID: tenant, filter: .init(), limit: 200, cursor: nil)
            #expect(page.items.map(\.latencyMilliseconds) == Array((0..<120).reversed()))
            // An entry that names only its Connection gets the Connection's app.
            #expect(page.items.allSatisfy { $0.appID == ($0.connectionID == nil ? nil : console.id) })
            // Flushing with nothing queued returns at once.
            await writer.flush()
        }
    }
}
