import ArgumentParser
import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyHTTP
import LatchkeyStorage

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Admin API keys and encryption keys.",
        subcommands: [CreateAdmin.self, ListAdmin.self, RevokeAdmin.self, Rotate.self, Status.self, Retire.self, RotateMaster.self]
    )

    struct CreateAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-admin",
            abstract: "Mint a tenant admin API key (lk_live_…); it is printed once."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name to recognise the key by.") var name = "cli"
        @Option(help: "admin (reads and changes everything) or auditor (reads everything, changes nothing).") var role = "admin"

        func validate() throws {
            guard let role = Role(rawValue: role), role != .member else {
                throw ValidationError("An admin key's role is admin or auditor, not \(role).")
            }
        }

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                let role = Role(rawValue: role) ?? .admin
                let (key, plaintext) = try await runtime.tenants.createAdminKey(tenantID: tenant.id, name: name, role: role, actor: .cli)
                let kind = role == .auditor ? "Auditor key (reads everything, changes nothing)" : "Admin key"
                CLI.printError("\(kind) \"\(key.name)\" for tenant \(tenant.slug) (id \(key.id)). It is shown only now; store it safely:")
                print(plaintext)
            }
        }
    }

    struct ListAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-admin",
            abstract: "List the tenant's admin API keys (never the keys themselves)."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                for key in try await runtime.tenants.adminKeys.list(tenantID: tenant.id) {
                    let state = key.revokedAt.map { "revoked \($0.formatted(.iso8601))" } ?? "active"
                    print("\(key.id)\t\(key.prefix)…\t\(key.name)\t\(key.role.rawValue)\tcreated \(key.createdAt.formatted(.iso8601))\t\(state)")
                }
            }
        }
    }

    struct RevokeAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-admin",
            abstract: "Revoke an admin API key by its id (running servers stop accepting it within seconds)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id, from list-admin.") var id: String

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let tenant = try await runtime.tenant(global.tenant)
                guard try await runtime.tenants.revokeAdminKey(id: id.lowercased(), tenantID: tenant.id, actor: .cli) else {
                    throw CLIError("No active admin key with id \(id) in tenant \(tenant.slug).")
                }
                print("Admin key \(id) revoked.")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new data-key version; new writes use it and running servers re-wrap old rows in the background."
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Also re-wrap every row now, in this process, with progress.") var now = false

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let version = try await runtime.keyManager.rotate(runtime.keyring)
                try await runtime.audit.append(
                    AuditRecord(actor: "cli", action: "key.rotate", target: "data-key-v\(version)"),
                    tenantID: runtime.defaultTenant.id
                )
                print(
                    "Data key version \(version) is now active. A running server re-wraps older rows in the background; `latchkey keys status` shows progress."
                )
                if now {
                    let service = runtime.rewrapService()
                    var printed: RewrapProgress?
                    while try await service.runBatch() > 0 {
                        if let progress = try await runtime.keyManager.repository.rewrapProgress(), progress != printed {
                            CLI.printError("re-wrapped \(progress.done) of \(progress.total) credentials")
                            printed = progress
                        }
                    }
                    let status = try await runtime.keyManager.status()
                    if status.unreadableCount == 0 {
                        print("Every row now uses data key version \(version).")
                    } else {
                        print("Every readable row now uses data key version \(version).")
                    }
                    try KeysCommand.failOnUnreadable(status)
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show data-key versions, rows per version and re-wrap progress.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            struct Rewrap: Encodable {
                var targetVersion: Int
                var done: Int
                var total: Int
                var finished: Bool
            }
            var activeVersion: Int
            var versions: [Int]
            var rowsByVersion: [String: Int]
            var rewrap: Rewrap?
            /// Rows that cannot be read (ids only, at most 100); re-wrap cannot move them.
            var unreadable: Unreadable
            struct Unreadable: Encodable {
                var count: Int
                var ids: [String]
            }
        }

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                let status = try await runtime.keyManager.status()
                if json {
                    let output = Output(
                        activeVersion: status.activeVersion,
                        versions: status.versions,
                        rowsByVersion: Dictionary(uniqueKeysWithValues: status.rowsByVersion.map { (String($0.key), $0.value) }),
                        rewrap: status.rewrap.map {
                            .init(targetVersion: $0.targetVersion, done: $0.done, total: $0.total, finished: $0.finishedAt != nil)
                        },
                        unreadable: .init(count: status.unreadableCount, ids: status.unreadableIDs)
                    )
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(output), as: UTF8.self))
                    try KeysCommand.failOnUnreadable(status)
                    return
                }
                print("Active data key version: \(status.activeVersion)")
                print("Versions in the keyring: \(status.versions.map(String.init).joined(separator: ", "))")
                print("Encrypted rows per version:")
                for version in status.versions {
                    print("  v\(version): \(status.rowsByVersion[version] ?? 0)")
                }
                if let rewrap = status.rewrap {
                    let state = rewrap.finishedAt != nil ? "finished" : "in progress"
                    print("Re-wrap to v\(rewrap.targetVersion): \(state), \(rewrap.done) of \(rewrap.total) rows")
                }
                try KeysCommand.failOnUnreadable(status)
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an old data-key version from the keyring; refused while any stored value still uses it."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The data-key version to remove (see `latchkey keys status`).") var version: Int

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                try await runtime.keyManager.retire(runtime.keyring, version: version)
                try await runtime.audit.append(
                    AuditRecord(actor: "cli", action: "key.retire", target: "data-key-v\(version)"),
                    tenantID: runtime.defaultTenant.id
                )
                print("Data key version \(version) was removed from the keyring; running servers drop it at their next reload.")
            }
        }
    }

    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Re-wrap the keyring under a new master key (credential rows are untouched).",
            discussion:
                "With a key file the file is replaced. With LATCHKEY_MASTER_KEY the new key is printed: set it on every instance and restart them. "
                + "With AWS KMS (LATCHKEY_KMS_KEY_ID) KMS makes the new key and its wrapped form replaces the old one in the database."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CLI.withRuntime(global) { runtime in
                if runtime.keyManager.usesKeyService {
                    try await runtime.keyManager.rotateMasterWithKeyService(runtime.keyring)
                    try await runtime.audit.append(AuditRecord(actor: "cli", action: "key.rotate_master"), tenantID: runtime.defaultTenant.id)
                    print(
                        "The keyring is now wrapped under a new master key from \(runtime.keyManager.keySourceDescription); its KMS-wrapped form "
                            + "replaced the old one in the database. Restart every running server so that it uses the new master key."
                    )
                    return
                }
                let newMaster = MasterKey.generate()
                let provider = try global.configuration().keyProvider
                try await runtime.keyManager.rotateMaster(runtime.keyring, to: newMaster, updateProvider: !(provider is EnvironmentKeyProvider))
                try await runtime.audit.append(AuditRecord(actor: "cli", action: "key.rotate_master"), tenantID: runtime.defaultTenant.id)
                if provider is EnvironmentKeyProvider {
                    CLI.printError(
                        "The keyring is now wrapped under a new master key. Set LATCHKEY_MASTER_KEY to this value on every instance and restart them:"
                    )
                    print(newMaster.base64)
                } else {
                    print(
                        "The keyring is now wrapped under a new master key, written to \(provider.sourceDescription). Back up the new file now; the old key no longer opens this database."
                    )
                }
            }
        }
    }
}

extension KeysCommand {
    /// Fails (non-zero exit) when rows cannot be read, naming them by id (never their content).
    static func failOnUnreadable(_ status: KeyManager.Status) throws {
        guard status.unreadableCount > 0 else { return }
        let shown = status.unreadableIDs.joined(separator: ", ")
        let more = status.unreadableCount > status.unreadableIDs.count ? " and \(status.unreadableCount - status.unreadableIDs.count) more" : ""
        throw CLIError(
            "\(status.unreadableCount) credential row(s) cannot be read (altered ciphertext, a missing key, or a damaged row): \(shown)\(more). "
                + "They were marked needs_reauth and recorded in the audit log; re-wrap leaves them as they are. Reconnect those accounts, "
                + "or restore the rows from a backup."
        )
    }
}
