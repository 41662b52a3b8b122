import ArgumentParser
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "Create and list tenants.",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant with its console app.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Short name: lowercase letters, digits and dashes.") var slug: String
        @Option(help: "Display name.") var name: String?

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                do {
                    let tenant = try await runtime.tenants.createTenant(slug: slug, name: name ?? slug, actor: .cli)
                    print("Tenant \(tenant.slug) created (id \(tenant.id)). Mint its admin key: latchkey keys create-admin --tenant \(tenant.slug)")
                    print("Its people sign in at \(TenantsCommand.signInURL(tenant, runtime: runtime))")
                } catch let error as LatchkeyError {
                    throw CLIError(error.message)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants: slug, name, id and the sign-in page of each.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                for tenant in try await runtime.tenants.directory.tenants() {
                    print("\(tenant.slug)\t\(tenant.name)\t\(tenant.id)\t\(TenantsCommand.signInURL(tenant, runtime: runtime))")
                }
            }
        }
    }

    /// The console's sign-in page of `tenant` at the public URL (`LATCHKEY_PUBLIC_URL`): `…/login?tenant=<slug>`, plain
    /// `…/login` for the default tenant.
    static func signInURL(_ tenant: Tenant, runtime: LatchkeyRuntime) -> String {
        let base = runtime.configuration.effectivePublicURL + "/login"
        return tenant.id == runtime.defaultTenant.id ? base : base + "?tenant=" + tenant.slug
    }
}
