import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Create, list and erase the people who sign in to the web console.",
        subcommands: [Create.self, List.self, Erase.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a console user. Without --password-stdin a password is generated and printed once."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The user's email address (their sign-in name).") var email: String
        @Option(help: "The name shown in the console (default: the part of the email before @).") var name: String?
        @Flag(help: "Make the user a tenant administrator (the same as --role admin).") var admin = false
        @Option(help: "admin, auditor (reads everything, changes nothing) or member (the default).") var role: String?
        @Flag(help: "Read the password from standard input (one line) instead of generating one.") var passwordStdin = false

        func validate() throws {
            if let role, Role(rawValue: role) == nil { throw ValidationError("--role is admin, auditor or member, not \(role).") }
            if admin, let role, role != Role.admin.rawValue { throw ValidationError("--admin and --role \(role) disagree; give one of them.") }
        }

        func run() async throws {
            let email = email.trimmingCharacters(in: .whitespaces).lowercased()
            let name = (name ?? String(email.split(separator: "@").first ?? "")).trimmingCharacters(in: .whitespaces)
            var generated = false
            let password: String
            if passwordStdin {
                guard let line = readLine(strippingNewline: true) else { throw CLIError("No password on standard input.") }
                password = line
            } else {
                password = SecureRandom.token(byteCount: 15)
                generated = true
            }
            if let problem = UserRules.problem(email: email, name: name, password: password) { throw CLIError(problem) }
            let hash = try await UserRules.hash(password)
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let user = try await runtime.tenants.createUser(
                    tenantID: tenant.id,
                    email: email,
                    displayName: name,
                    passwordHash: hash,
                    role: role.flatMap(Role.init(rawValue:)) ?? (admin ? .admin : .member),
                    actor: .cli
                )
                print(user.id)
                let signIn = TenantsCommand.signInURL(tenant, runtime: runtime)
                if generated {
                    FileHandle.standardError.write(
                        Data("User \(email) created. Their password (shown only now): \(password)\nThey sign in at \(signIn)\n".utf8)
                    )
                } else {
                    FileHandle.standardError.write(Data("User \(email) created. They sign in at \(signIn)\n".utf8))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List console users.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                for user in try await runtime.tenants.users.list(tenantID: tenant.id) {
                    print("\(user.email)\t\(user.displayName)\t\(user.role.rawValue)\t\(user.id)")
                }
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a console user and what is held about them (a data-subject request).",
            discussion: """
                Their connected accounts are revoked at the providers (best effort) and deleted, with their end users,
                identities, passkeys, second factor, sessions and the grants they gave; audit events stay, the chain
                verifiable. Asks for the user's email unless --yes is given.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user's id or email.") var user: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let wanted = user.trimmingCharacters(in: .whitespaces).lowercased()
                guard let found = try await runtime.tenants.users.list(tenantID: tenant.id).first(where: { $0.id == wanted || $0.email == wanted })
                else { throw CLIError("Tenant \(tenant.slug) has no user \(user) (an erased user is gone for good).") }
                if !yes {
                    FileHandle.standardError.write(Data("Erase \(found.email) for good? Type their email to confirm: ".utf8))
                    guard readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased() == found.email else {
                        throw CLIError("Not confirmed; nothing was erased.")
                    }
                }
                let summary = try await runtime.eraseUser(id: found.id, tenantID: tenant.id, actor: .cli)
                print(
                    "Erased \(found.email): \(summary.credentialsDeleted) credentials revoked and deleted"
                        + (summary.credentialsNotRevoked > 0 ? ", \(summary.credentialsNotRevoked) deleted without a revocation at the provider" : "")
                        + ", \(summary.endUsersDeleted) end users deleted."
                )
            }
        }
    }
}
