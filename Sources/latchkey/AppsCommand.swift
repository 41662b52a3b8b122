import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage

struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apps",
        abstract: "Create and list apps: programs that act for their own end users with an lk_app_ key.",
        subcommands: [Create.self, List.self, Disable.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an app with every permission; its key (lk_app_…) is printed once. Change it with PATCH /api/v1/apps/{id}."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name (1 to 100 characters).") var name: String

        func run() async throws {
            if let problem = AppRules.nameProblem(name) { throw CLIError("The app name \(problem).") }
            let name = name.trimmingCharacters(in: .whitespaces)
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
                let (app, key) = try await apps.create(.init(name: name), tenantID: tenant.id, actor: .cli)
                CLI.printError("App \"\(app.name)\" for tenant \(tenant.slug) (id \(app.id)). Its key is shown only now; store it safely:")
                print(key)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's apps (the console app first); keys are never shown.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
                for app in try await apps.list(tenantID: tenant.id) {
                    let key = app.keyPrefix.map { "\($0)…" } ?? "-"
                    print("\(app.id)\t\(app.kind.rawValue)\t\(app.status.rawValue)\t\(key)\t\(app.name)")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an app: its key is refused from its next request (on every instance). PATCH /api/v1/apps/{id} enables it again."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's id, from `apps list`.") var id: String

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
                guard let uuid = UUID(uuidString: id), let app = try await apps.apps.find(id: uuid.uuidString.lowercased(), tenantID: tenant.id)
                else {
                    throw CLIError("No app with id \(id) in tenant \(tenant.slug). `latchkey apps list` shows them.")
                }
                var changes = AppService.Changes()
                changes.status = .disabled
                _ = try await apps.update(id: app.id, tenantID: tenant.id, changes: changes, actor: .cli)
                print("App \(app.name) (\(app.id)) disabled: its key is refused.")
            }
        }
    }
}
