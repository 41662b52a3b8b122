public import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
public import LatchkeyProviders
public import LatchkeyStorage

/// Checks integration settings against the provider catalog, shared by the API and the admin page, and reports
/// every problem field by field. For the generic `oidc` provider it reads the discovery document and stores the
/// endpoints it names.
public struct IntegrationRules: Sendable {
    let catalog: ProviderCatalog
    let allowPrivateNetwork: Bool
    /// Reads an OpenID Connect discovery document and returns the settings it yields (endpoints and issuer).
    let discover: @Sendable (URL) async throws -> [String: String]

    public init(catalog: ProviderCatalog, allowPrivateNetwork: Bool, discover: @escaping @Sendable (URL) async throws -> [String: String]) {
        self.catalog = catalog
        self.allowPrivateNetwork = allowPrivateNetwork
        self.discover = discover
    }

    public static let maxScopes = 100

    public func provider(_ id: String) throws -> Provider {
        guard let provider = catalog.provider(id: id) else {
            throw LatchkeyError.invalidField("provider", "is not a provider Latchkey knows; GET /api/v1/providers lists them")
        }
        return provider
    }

    /// A complete, checked new integration.
    public func validated(_ new: IntegrationStore.NewIntegration) async throws -> IntegrationStore.NewIntegration {
        var problems: [LatchkeyError.FieldError] = []
        func problem(_ path: String, _ message: String) { problems.append(.init(path: path, message: message)) }
        guard let provider = catalog.provider(id: new.provider) else {
            throw LatchkeyError.invalidField("provider", "is not a provider Latchkey knows; GET /api/v1/providers lists them")
        }
        var out = new
        if !Self.isIntegrationKey(new.key) { problem("key", "must be 1 to 64 lowercase letters, digits, dashes or underscores") }
        if Self.reservedKeys.contains(new.key) {
            problem("key", "“\(new.key)” is reserved (the console's page for a new integration); choose another")
        }
        checkCommon(
            provider: provider,
            clientID: new.clientID,
            clientSecret: new.clientSecret,
            scopes: new.scopes,
            displayName: new.displayName,
            problem
        )
        if provider.authMode == .oauth2 || provider.authMode == .oauth2ClientCredentials {
            if (new.clientID ?? "").isEmpty { problem("clientId", "is required for \(provider.displayName), an OAuth provider") }
        }
        out.settings = checkSettings(provider: provider, settings: new.settings, problem)
        if !problems.isEmpty { throw LatchkeyError.invalidRequest("The integration is not valid.", fields: problems) }
        out.settings = try await discovered(provider: provider, settings: out.settings)
        return out
    }

    /// Checked changes to an existing integration.
    public func validated(_ changes: IntegrationStore.Changes, for integration: Integration) async throws -> IntegrationStore.Changes {
        var problems: [LatchkeyError.FieldError] = []
        func problem(_ path: String, _ message: String) { problems.append(.init(path: path, message: message)) }
        let provider = try self.provider(integration.provider)
        var out = changes
        checkCommon(
            provider: provider,
            clientID: changes.clientID ?? nil,
            clientSecret: changes.clientSecret ?? nil,
            scopes: changes.scopes ?? [],
            displayName: changes.displayName ?? nil,
            problem
        )
        if let clientID = changes.clientID, (clientID ?? "").isEmpty, provider.authMode == .oauth2 || provider.authMode == .oauth2ClientCredentials {
            problem("clientId", "cannot be removed from an OAuth integration")
        }
        if let settings = changes.settings { out.settings = checkSettings(provider: provider, settings: settings, problem) }
        if !problems.isEmpty { throw LatchkeyError.invalidRequest("The changes are not valid.", fields: problems) }
        if let settings = out.settings { out.settings = try await discovered(provider: provider, settings: settings) }
        return out
    }

    private func checkCommon(
        provider: Provider,
        clientID: String?,
        clientSecret: String?,
        scopes: [String],
        displayName: String?,
        _ problem: (String, String) -> Void
    ) {
        let isOAuth = provider.authMode == .oauth2 || provider.authMode == .oauth2ClientCredentials
        if let clientID, !clientID.isEmpty {
            if !isOAuth { problem("clientId", "is only for OAuth providers; \(provider.displayName) uses \(provider.authMode.rawValue)") }
            if clientID.count > 512 || clientID.contains(where: \.isNewline) { problem("clientId", "must be one line of at most 512 characters") }
        }
        if let clientSecret {
            if !isOAuth { problem("clientSecret", "is only for OAuth providers") }
            if clientSecret.isEmpty || clientSecret.utf8.count > 4096 { problem("clientSecret", "must be 1 to 4096 bytes") }
        }
        if !scopes.isEmpty && !isOAuth { problem("scopes", "are only for OAuth providers") }
        if scopes.count > Self.maxScopes { problem("scopes", "may list at most \(Self.maxScopes) scopes") }
        for (index, scope) in scopes.enumerated()
        where scope.isEmpty || scope.count > 256 || scope.contains(where: { $0.isWhitespace || $0 == "," && provider.oauth?.scopeSeparator == "," }) {
            problem("scopes[\(index)]", "must be a non-empty scope name without spaces")
        }
        if let displayName, displayName.isEmpty || displayName.count > 100 { problem("displayName", "must be 1 to 100 characters") }
        checkScopesAreKnown(provider: provider, scopes: scopes, problem)
    }

    /// Refuses scopes the catalog entry does not list, unless the provider is generic (its endpoints are set per
    /// integration) or its entry says the list is open, or it lists no scopes at all.
    private func checkScopesAreKnown(provider: Provider, scopes: [String], _ problem: (String, String) -> Void) {
        guard let oauth = provider.oauth, oauth.configurableEndpoints != true, oauth.openScopes != true, !oauth.scopes.isEmpty else { return }
        let known = oauth.scopes.keys.sorted()
        let examples = known.prefix(6).joined(separator: ", ") + (known.count > 6 ? ", …" : "")
        for (index, scope) in scopes.enumerated() where !scope.isEmpty && oauth.scopes[scope] == nil {
            problem(
                "scopes[\(index)]",
                "\"\(scope.prefix(64))\" is not a \(provider.displayName) scope Latchkey knows (known: \(examples); GET /api/v1/providers lists them all)"
            )
        }
    }

    private func checkSettings(provider: Provider, settings: [String: String], _ problem: (String, String) -> Void) -> [String: String] {
        let known = provider.integrationSettings ?? [:]
        var out: [String: String] = [:]
        for (name, value) in settings {
            guard let spec = known[name] else {
                let names = known.keys.sorted()
                problem(
                    "settings.\(FieldName.safe(name))",
                    names.isEmpty
                        ? "is not a setting of \(provider.displayName), which takes none"
                        : "is not a setting of \(provider.displayName) (known: \(names.joined(separator: ", ")))"
                )
                continue
            }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if spec.isURL, let reason = urlProblem(trimmed) {
                problem("settings.\(name)", reason)
                continue
            }
            if trimmed.count > 2048 { problem("settings.\(name)", "must be at most 2048 characters") }
            out[name] = trimmed
        }
        for (name, spec) in known where spec.required && (out[name] ?? "").isEmpty && settings[name] == nil {
            problem("settings.\(name)", "is required: \(spec.description)")
        }
        return out
    }

    /// Why a configured URL cannot be used, or nil. Plain http, and hosts the ``AddressClassifier`` places on this
    /// machine's network (in any literal form, or a name of this machine), are accepted only where private networks
    /// are allowed (a provider on this machine, the tests); control characters and whitespace never are.
    public func urlProblem(_ text: String) -> String? {
        if OutboundPolicy.textProblem(text) != nil { return "must not contain control characters (such as a line break) or spaces" }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return "must be an absolute https URL"
        }
        if url.user != nil || url.password != nil { return "must not contain a user name or password" }
        if url.fragment != nil { return "must not contain a fragment (#…)" }
        if let problem = OutboundPolicy.hostProblem(url.host(percentEncoded: true) ?? host) { return "cannot be used: \(problem)" }
        if !allowPrivateNetwork, let reason = AddressClassifier.refusal(host: host) {
            return "must not point at this machine or its network: \(host) is refused because \(reason). Start the server with "
                + "--allow-private-network to allow it"
        }
        switch scheme {
        case "https": return nil
        case "http" where allowPrivateNetwork: return nil
        case "http": return "must use https (plain http is accepted only with --allow-private-network)"
        default: return "must be an https URL"
        }
    }

    private func discovered(provider: Provider, settings: [String: String]) async throws -> [String: String] {
        guard provider.id == "oidc", let text = settings["discoveryURL"], let url = URL(string: text) else { return settings }
        let found: [String: String]
        do {
            found = try await discover(url)
        } catch let error as LatchkeyError {
            throw LatchkeyError.invalidRequest(
                "The discovery document at settings.discoveryURL could not be used: \(error.message)",
                fields: [.init(path: "settings.discoveryURL", message: error.message)]
            )
        }
        // The endpoints the document names pass the same URL checks as endpoints an admin types in.
        for key in ["authorizationURL", "tokenURL", "revocationURL", "userInfoURL"] {
            guard let value = found[key], let reason = urlProblem(value) else { continue }
            let message = "The discovery document names a \(key) that cannot be used: it \(reason)."
            throw LatchkeyError.invalidRequest(message, fields: [.init(path: "settings.discoveryURL", message: message)])
        }
        var out = settings
        for (key, value) in found where key != "discoveryURL" && key != "apiBaseURL" { out[key] = value }
        return out
    }

    /// Whether `value` has the shape of a key as stored: the strict shape of `isIntegrationKey`, or the looser one credentials
    /// imported for an integration that was not set up may carry (letters, digits, `-`, `_`, `.`).
    public static func isStoredKey(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 64
            && value.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }

    /// Keys a new integration may not take: `/admin/integrations/new` is the console's form for one.
    public static let reservedKeys: Set<String> = ["new"]

    /// Whether `value` is a key a new integration may take: 1 to 64 lowercase letters, digits, `-` or `_`.
    public static func isIntegrationKey(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 64
            && value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}
