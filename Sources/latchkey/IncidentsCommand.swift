import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyStorage

struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Incident response: revoke credentials in bulk at their providers, force-refresh an integration's tokens.",
        subcommands: [Revoke.self, Refresh.self]
    )

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke every credential of an integration, an app or the tenant at its provider, then delete it.",
            discussion: """
                What it covers is printed first. Without --yes you are asked to type a confirmation phrase (the integration \
                key, the app id, or "revoke everything"). A run cut short (a crash, SIGKILL) resumes on the next run of this \
                command, or when a running server is asked for it.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Every credential of this integration (its key).") var integration: String?
        @Option(help: "Every credential of this app (its id).") var app: String?
        @Flag(help: "Every credential of the tenant (--tenant SLUG names which; the default tenant otherwise).") var all = false
        @Flag(help: "Print what would be revoked and change nothing.") var dryRun = false
        @Flag(help: "Do not ask for the confirmation phrase.") var yes = false

        func validate() throws {
            let chosen = [integration != nil, app != nil, all].filter { $0 }.count
            guard chosen == 1 else { throw ValidationError("Choose exactly one of --integration KEY, --app ID or --all.") }
        }

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenantRecord = try await runtime.tenant(global.tenant)
                let transport = AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: runtime.configuration.allowPrivateNetwork))
                let job: IncidentJob?
                do {
                    job = try await revoke(runtime, tenantID: tenantRecord.id, transport: transport)
                } catch {
                    try? await transport.shutdown()
                    throw error
                }
                try await transport.shutdown()
                guard let job else { return }
                print(
                    "Run \(job.id): \(job.status.rawValue). Deleted \(job.processed) of \(job.total); revoked at the provider \(job.revoked), nothing to revoke \(job.notSupported), provider did not confirm \(job.revocationFailed)."
                )
                if let error = job.error { throw CLIError(error) }
            }
        }

        /// The dry run's counts, then (confirmed) the run; nil for a dry run.
        private func revoke(_ runtime: LatchkeyRuntime, tenantID: String, transport: any HTTPTransport) async throws -> IncidentJob? {
            let (incidents, scopes) = IncidentsCommand.services(runtime, transport: transport)
            let kind = integration != nil ? "integration" : app != nil ? "app" : "tenant"
            let scope = try await scopes.scope(kind, integration: integration, app: app, tenantID: tenantID)
            let preview = try await incidents.preview(scope, tenantID: tenantID)
            print("\(preview.total) credentials in scope (\(scope.kind)).")
            for (key, count) in preview.byIntegration { print("  \(key)\t\(count)") }
            if dryRun { return nil }
            if !yes {
                CLI.printError("Type \"\(scope.confirmationPhrase)\" to revoke and delete them:")
                do {
                    try IncidentResponse.confirm(readLine(), for: scope)
                } catch {
                    throw CLIError("Nothing was revoked: type \"\(scope.confirmationPhrase)\" to confirm (or pass --yes).")
                }
            }
            return try await incidents.revoke(scope, tenantID: tenantID, actor: .cli) { job in
                if job.processed % 50 == 0 { CLI.printError("deleted \(job.processed) of \(job.total)") }
            }
        }
    }

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refresh every OAuth credential of an integration now, whatever its expiry."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The integration's key.") var integration: String

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenantRecord = try await runtime.tenant(global.tenant)
                let transport = AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: runtime.configuration.allowPrivateNetwork))
                let (incidents, scopes) = IncidentsCommand.services(runtime, transport: transport)
                let counts: IncidentResponse.RefreshCounts
                do {
                    let key = try await scopes.integrationKey(integration, tenantID: tenantRecord.id)
                    counts = try await incidents.forceRefresh(integration: key, tenantID: tenantRecord.id, actor: .cli)
                } catch {
                    try? await transport.shutdown()
                    throw error
                }
                try await transport.shutdown()
                print(
                    "\(integration): \(counts.refreshed) refreshed, \(counts.failed) failed, \(counts.needsReauth) need reconnecting, \(counts.skipped) not OAuth."
                )
            }
        }
    }

    static func services(_ runtime: LatchkeyRuntime, transport: any HTTPTransport) -> (IncidentResponse, IncidentScopes) {
        let outbound = runtime.outboundServices(transport: transport)
        let incidents = runtime.incidentResponse(outbound: outbound)
        let scopes = IncidentScopes(integrations: runtime.integrations.integrations, apps: AppRepository(database: runtime.database))
        return (incidents, scopes)
    }
}
