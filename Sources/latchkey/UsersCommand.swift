import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Create and list the people who sign in to the web console.",
        subcommands: [Create.self, List.self]
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
}
