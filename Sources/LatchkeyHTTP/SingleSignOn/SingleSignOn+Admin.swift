import Foundation
import LatchkeyCore
import LatchkeyStorage

extension SingleSignOn {
    /// One integration's sign-in settings as an administrator sees them.
    struct ProviderView: Sendable, Encodable {
        var integrationKey: String
        /// The integration's name.
        var name: String
        /// `oidc` (single sign-on) or `social`; absent when the integration can no longer sign people in.
        var kind: String?
        var enabled: Bool
        var createUsers: Bool
        var allowedDomains: [String]
        /// Why the integration cannot sign people in now (deleted, turned off, no user-info); absent when it can.
        var problem: String?
        var updatedAt: Date?
    }

    /// The integrations of a tenant an administrator can turn sign-in on for, with their settings: the configured ones
    /// first (even when they can no longer sign people in), then every other integration that could.
    func overview(tenantID: String) async throws -> (configured: [ProviderView], available: [ProviderView]) {
        var configured: [ProviderView] = []
        for settings in try await providers.all(tenantID: tenantID) {
            var view = ProviderView(
                integrationKey: settings.integrationKey,
                name: settings.integrationKey,
                enabled: settings.enabled,
                createUsers: settings.createUsers,
                allowedDomains: settings.allowedDomains,
                updatedAt: settings.updatedAt
            )
            do {
                let candidate = try await candidate(key: settings.integrationKey, tenantID: tenantID)
                view.name = candidate.name
                view.kind = candidate.kind.rawValue
            } catch let error as LatchkeyError {
                view.problem = error.message
            }
            configured.append(view)
        }
        let taken = Set(configured.map(\.integrationKey))
        var available: [ProviderView] = []
        for integration in try await integrations.integrations.list(tenantID: tenantID) where !taken.contains(integration.key) {
            guard let candidate = try? await candidate(key: integration.key, tenantID: tenantID) else { continue }
            available.append(
                ProviderView(
                    integrationKey: integration.key,
                    name: candidate.name,
                    kind: candidate.kind.rawValue,
                    enabled: false,
                    createUsers: false,
                    allowedDomains: []
                )
            )
        }
        return (configured, available)
    }

    /// Checks and stores an integration's sign-in settings; audited `sign_in_provider.update`. The integration must be
    /// able to sign people in (a 4xx in plain words otherwise).
    func save(
        key: String,
        enabled: Bool,
        createUsers: Bool,
        domains: [String],
        tenantID: String,
        actor: AuditActor
    ) async throws
        -> SignInProviderSettings
    {
        let candidate = try await candidate(key: key, tenantID: tenantID)
        let cleaned = try Self.domains(domains)
        let settings = SignInProviderSettings(
            integrationKey: candidate.integration.key,
            enabled: enabled,
            createUsers: createUsers,
            allowedDomains: cleaned,
            updatedAt: clock.now
        )
        let details = [
            "integration": candidate.integration.key, "enabled": String(enabled), "create_users": String(createUsers),
            "allowed_domains": cleaned.joined(separator: " "),
        ]
        try await providers.save(
            settings,
            tenantID: tenantID,
            audit: audit,
            record: AuditRecord(actor: actor, action: "sign_in_provider.update", target: candidate.integration.key, details: details)
        )
        return settings
    }

    /// Stops an integration signing people in and forgets its settings; audited `sign_in_provider.delete`. 404 when it
    /// had none.
    func remove(key: String, tenantID: String, actor: AuditActor) async throws {
        let record = AuditRecord(actor: actor, action: "sign_in_provider.delete", target: key, details: ["integration": key])
        guard try await providers.delete(integrationKey: key, tenantID: tenantID, audit: audit, record: record) else {
            throw LatchkeyError(.notFound, "Signing in with \"\(String(key.prefix(64)))\" is not set up, so there is nothing to remove.")
        }
    }

    /// Lower-cased, checked email domains (at most 50): `example.com`, not `@example.com` nor `*.example.com`.
    static func domains(_ values: [String]) throws -> [String] {
        var out: [String] = []
        for raw in values {
            var domain = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            if domain.hasPrefix("@") { domain.removeFirst() }
            if domain.isEmpty { continue }
            let allowed = domain.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
            guard allowed, domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains(".."), domain.utf8.count <= 253
            else {
                throw LatchkeyError.invalidField(
                    "allowedDomains",
                    "\"\(String(raw.prefix(64)))\" is not an email domain. Write domains like example.com, separated by spaces or commas."
                )
            }
            if !out.contains(domain) { out.append(domain) }
        }
        guard out.count <= 50 else { throw LatchkeyError.invalidField("allowedDomains", "List at most 50 email domains.") }
        return out
    }
}
