import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyTesting
import Logging
import NIOCore
import SQLKit
import Synchronization
import Testing

@testable import LatchkeyStorage

/// The token path's resolution SQL finds its row through indexes, whatever the number of app users: every shape of
/// `CredentialVault.resolvedRow` is captured as the vault builds it, then explained on the real database. A scan of
/// `credentials`, `end_users` or `connections`, or a walk of all the tenant's rows of one (what a benchmark at 1,000 app
/// users once found), fails; on PostgreSQL with sequential scans priced out, so that the planner's choice says whether
/// an index can serve the query at all.
@Suite("Resolution query plans")
struct ResolutionQueryPlanTests {
    /// Records the statements it is given and answers none, so the vault's fallbacks run too.
    final class RecordingDatabase: SQLDatabase {
        let base: any SQLDatabase
        private let storage = Mutex<[any SQLExpression]>([])

        init(base: any SQLDatabase) { self.base = base }

        var recorded: [any SQLExpression] { storage.withLock { $0 } }
        var logger: Logger { base.logger }
        var eventLoop: any EventLoop { base.eventLoop }
        var version: (any SQLDatabaseReportedVersion)? { base.version }
        var dialect: any SQLDialect { base.dialect }

        func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
            storage.withLock { $0.append(query) }
            return eventLoop.makeSucceededVoidFuture()
        }

        func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
            storage.withLock { $0.append(query) }
        }
    }

    /// `prefix` followed by a captured statement, with its binds.
    struct Prefixed: SQLExpression {
        let prefix: String
        let query: any SQLExpression

        func serialize(to serializer: inout SQLSerializer) {
            serializer.write(prefix)
            query.serialize(to: &serializer)
        }
    }

    static let guarded = ["credentials", "end_users", "connections"]
    /// The aliases the resolution SQL gives those tables (SQLite names a scan by its alias).
    static let aliases = ["c": "credentials", "n": "connections", "n2": "connections", "e": "end_users", "e2": "end_users"]

    /// The lines of `plan` that read a guarded table whole, or all of the tenant's rows of it, on SQLite.
    static func sqliteScans(_ plan: [String]) -> [String] {
        plan.filter { line in
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 1, words[0] == "SCAN" || words[0] == "SEARCH" else { return false }
            guard guarded.contains(words[1]) || aliases[words[1]] != nil else { return false }
            return words[0] == "SCAN" || line.hasSuffix("(tenant_id=?)")
        }
    }

    /// The lines of `plan` that read a guarded table whole, or all of the tenant's rows of it, on PostgreSQL: a
    /// sequential scan, or an index scan with no index condition (a walk of the whole index) or one on the tenant only.
    static func postgresScans(_ plan: [String]) -> [String] {
        var found: [String] = []
        for (index, line) in plan.enumerated() {
            guard let table = guarded.first(where: { line.contains(" on \($0) ") || line.hasSuffix(" on \($0)") }) else { continue }
            if line.contains("Seq Scan on \(table)") {
                found.append(line)
            } else if line.contains("Index Scan") || line.contains("Index Only Scan") {
                let details = plan[(index + 1)...].prefix { !$0.contains("->") }
                let condition = details.first { $0.contains("Index Cond:") }
                if condition == nil || condition!.contains("Index Cond: (tenant_id = ") { found.append(line) }
            }
        }
        return found
    }

    /// Every resolution shape the token path can ask for, for the console app (nil) and an external app.
    static func shapes(tenantID: String, appID: String, credentialID: String, connectionID: String) -> [(String, CredentialVault.Resolution)] {
        var shapes: [(String, CredentialVault.Resolution)] = []
        for (name, app) in [("console", String?.none), ("app", appID)] {
            func resolution(credential: String? = nil, connection: String? = nil, user: String? = nil) -> CredentialVault.Resolution {
                .init(
                    tenantID: tenantID,
                    appID: app,
                    integrationKey: "github",
                    credentialID: credential,
                    connectionID: connection,
                    externalUserID: user
                )
            }
            shapes += [
                ("\(name): shared", resolution()),
                ("\(name): end user, then shared", resolution(user: "user-7")),
                ("\(name): Connection", resolution(connection: connectionID)),
                ("\(name): Connection and end user", resolution(connection: connectionID, user: "user-7")),
                ("\(name): credential id", resolution(credential: credentialID)),
                ("\(name): credential id and end user", resolution(credential: credentialID, user: "user-7")),
            ]
        }
        shapes += [
            ("console: by email", .init(tenantID: tenantID, appID: nil, integrationKey: "github", externalUserID: "Sarah@Example.com")),
            (
                "console: credential id by email",
                .init(tenantID: tenantID, appID: nil, integrationKey: "github", credentialID: credentialID, externalUserID: "sarah@example.com")
            ),
        ]
        return shapes
    }

    @Test(arguments: TestDatabases.kinds)
    func everyResolutionQueryFindsItsRowThroughIndexes(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenantID = runtime.defaultTenant.id
            let directory = runtime.tenants.directory
            let now = runtime.clock.now
            let app = App(id: NewID.make(), tenantID: tenantID, name: "DerekApp", kind: .external, createdAt: now)
            let connection = try await runtime.database.transaction { db in
                try await directory.insertApp(app, on: db)
                let integration = try await directory.findOrCreateIntegration(tenantID: tenantID, key: "github", now: now, on: db).integration
                return try await directory.findOrCreateConnection(app: app, integration: integration, now: now, on: db)
            }
            var credentialID = ""
            for index in 0..<40 {
                let credential = try await runtime.vault.create(
                    .init(
                        integration: "github",
                        externalUserID: index % 4 == 0 ? nil : "user-\(index)",
                        connectionID: index.isMultiple(of: 2) ? connection.id : nil,
                        type: .apiKey,
                        secret: .init(apiKey: "k_\(index)")
                    ),
                    tenantID: tenantID,
                    actor: .cli
                )
                credentialID = credential.id
            }

            var explained = 0
            for (name, resolution) in Self.shapes(tenantID: tenantID, appID: app.id, credentialID: credentialID, connectionID: connection.id) {
                let recorded = try await runtime.database.read { db in
                    let recorder = RecordingDatabase(base: db)
                    _ = try await CredentialVault.resolvedRow(columns: CredentialRepository.selectColumns, resolution, on: recorder)
                    return recorder.recorded
                }
                #expect(!recorded.isEmpty, "\(name)")
                for query in recorded {
                    let plan = try await Self.plan(of: query, kind: kind, runtime.database)
                    #expect(!plan.isEmpty, "\(name)")
                    let scans = kind == .sqlite ? Self.sqliteScans(plan) : Self.postgresScans(plan)
                    #expect(scans.isEmpty, "\(name) scans \(scans):\n\(plan.joined(separator: "\n"))")
                    explained += 1
                }
            }
            // Two statements for each shape that names an end user without a credential id (theirs, then the shared one).
            #expect(explained == 14 + 4 + 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theCheckCatchesAQueryThatReadsEveryCredentialOrAllOfTheTenants(kind: TestDatabases.Kind) async throws {
        try await TestDatabases.withRuntime(kind) { runtime async throws in
            let tenantID = runtime.defaultTenant.id
            let queries: [SQLQueryString] = [
                "SELECT c.id FROM credentials c WHERE c.label = \(bind: "x")",
                "SELECT c.id FROM credentials c WHERE c.tenant_id = \(bind: tenantID) AND c.label = \(bind: "x")",
            ]
            for query in queries {
                let plan = try await Self.plan(of: query, kind: kind, runtime.database)
                let scans = kind == .sqlite ? Self.sqliteScans(plan) : Self.postgresScans(plan)
                #expect(scans.count == 1, "\(plan)")
            }
        }
    }

    /// The plan of `query`, one line per step.
    static func plan(of query: any SQLExpression, kind: TestDatabases.Kind, _ database: Database) async throws -> [String] {
        switch kind {
        case .sqlite:
            return try await database.read { db in
                try await db.execute(Prefixed(prefix: "EXPLAIN QUERY PLAN ", query: query)).map { try $0.decode(column: "detail", as: String.self) }
            }
        case .postgres:
            return try await database.transaction { db in
                try await db.raw("SET LOCAL enable_seqscan = off").run()
                return try await db.execute(Prefixed(prefix: "EXPLAIN ", query: query)).map { try $0.decode(column: "QUERY PLAN", as: String.self) }
            }
        }
    }
}

extension SQLDatabase {
    /// Every row of `expression`.
    fileprivate func execute(_ expression: any SQLExpression) async throws -> [any SQLRow] {
        let rows = Mutex<[any SQLRow]>([])
        try await execute(sql: expression) { row in rows.withLock { $0.append(row) } }
        return rows.withLock { $0 }
    }
}
