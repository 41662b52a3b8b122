import Foundation

/// Checks one decoded provider against the catalog rules.
struct ProviderValidator {
    let file: String
    let provider: Provider

    func fail(_ field: String, _ message: String) -> CatalogError {
        CatalogError(file: file, field: field, message: message)
    }

    func validate() throws {
        guard Self.isIdentifier(provider.id) else {
            throw fail("id", "must be lowercase letters, digits, '_' or '-'")
        }
        try nonEmpty(provider.displayName, "displayName")
        try nonEmpty(provider.icon, "icon")
        guard !provider.categories.isEmpty else { throw fail("categories", "must name at least one category") }
        for (index, category) in provider.categories.enumerated() where !Self.isIdentifier(category) {
            throw fail("categories[\(index)]", "must be lowercase letters, digits, '_' or '-'")
        }
        try httpsURL(provider.docsURL, "docsURL")
        try validateTemplateParameters()
        try validateIntegrationSettings()

        let configurable = provider.oauth?.configurableEndpoints == true
        switch provider.authMode {
        case .oauth2, .oauth2ClientCredentials:
            guard let oauth = provider.oauth else { throw fail("oauth", "is required for auth mode \(provider.authMode.rawValue)") }
            guard provider.apiKey == nil else { throw fail("apiKey", "is not allowed for auth mode \(provider.authMode.rawValue)") }
            try validate(oauth: oauth)
        case .apiKey, .basic:
            guard let apiKey = provider.apiKey else { throw fail("apiKey", "is required for auth mode \(provider.authMode.rawValue)") }
            guard provider.oauth == nil else { throw fail("oauth", "is not allowed for auth mode \(provider.authMode.rawValue)") }
            try validate(apiKey: apiKey)
        }

        if let base = provider.proxyBaseURL {
            try templatedURL(base, "proxyBaseURL")
        } else if !configurable {
            throw fail("proxyBaseURL", "is required")
        }
        if let headers = provider.requestHeaders { try validate(headers: headers, "requestHeaders") }
        if let limits = provider.rateLimitHeaders {
            for (name, value) in [
                ("retryAfter", limits.retryAfter), ("reset", limits.reset), ("remaining", limits.remaining), ("limit", limits.limit),
            ] {
                if let value { try headerName(value, "rateLimitHeaders.\(name)") }
            }
        }
        if let limit = provider.rateLimit {
            guard (1...1_000_000).contains(limit.budget) else { throw fail("rateLimit.budget", "must be 1 to 1000000 calls") }
            guard (1...86_400).contains(limit.windowSeconds) else { throw fail("rateLimit.windowSeconds", "must be 1 to 86400 seconds") }
        }
        if let probe = provider.probe {
            try method(probe.method, "probe.method")
            try pathOrURL(probe.path, "probe.path")
            guard (100...599).contains(probe.expectStatus) else { throw fail("probe.expectStatus", "must be an HTTP status code") }
        } else if !configurable {
            throw fail("probe", "is required")
        }
        if let identity = provider.identity {
            if let verb = identity.method { try method(verb, "identity.method") }
            try pathOrURL(identity.endpoint, "identity.endpoint")
            try nonEmpty(identity.idField, "identity.idField")
        }
        try validateTools()
        try validateDatasets()
    }

    private func validate(oauth: OAuthSettings) throws {
        let endpoints: [(String, DocumentedEndpoint?)] = [
            ("oauth.authorizationURL", oauth.authorizationURL),
            ("oauth.tokenURL", oauth.tokenURL),
            ("oauth.revocationURL", oauth.revocationURL),
            ("oauth.userInfoURL", oauth.userInfoURL),
        ]
        if oauth.configurableEndpoints == true {
            for (field, endpoint) in endpoints where endpoint != nil {
                throw fail(field, "must not be set when the endpoints are configurable")
            }
            guard let settings = provider.integrationSettings, !settings.isEmpty else {
                throw fail("integrationSettings", "must describe the settings the admin gives")
            }
        } else {
            guard oauth.tokenURL != nil else { throw fail("oauth.tokenURL", "is required") }
            if provider.authMode == .oauth2, oauth.authorizationURL == nil {
                throw fail("oauth.authorizationURL", "is required for auth mode oauth2")
            }
            for (field, endpoint) in endpoints {
                guard let endpoint else { continue }
                let clientPlaceholder = field == "oauth.revocationURL" && oauth.revocationStyle == .deleteGrant
                try templatedURL(endpoint.url, field, builtIn: clientPlaceholder ? ["client_id": "example-client"] : [:])
                try httpsURL(endpoint.docs, "\(field).docs")
            }
        }
        if let issuer = oauth.authorizationResponseIssuer {
            if oauth.configurableEndpoints == true {
                throw fail("oauth.authorizationResponseIssuer", "must not be set when the endpoints are configurable (discovery says so)")
            }
            try httpsURL(issuer.url, "oauth.authorizationResponseIssuer")
            try httpsURL(issuer.docs, "oauth.authorizationResponseIssuer.docs")
        }
        if oauth.revocationStyle != nil, oauth.revocationURL == nil {
            throw fail("oauth.revocationStyle", "needs a revocationURL")
        }
        guard [" ", ",", "+"].contains(oauth.scopeSeparator) else {
            throw fail("oauth.scopeSeparator", "must be a space, a comma or '+'")
        }
        if let parameter = oauth.scopeParameter { try nonEmpty(parameter, "oauth.scopeParameter") }
        for (scope, description) in oauth.scopes.sorted(by: { $0.key < $1.key }) {
            if scope.isEmpty || scope.contains(oauth.scopeSeparator) {
                throw fail("oauth.scopes", "'\(scope)' is not a usable scope name")
            }
            try nonEmpty(description, "oauth.scopes.\(scope)")
        }
        for (index, scope) in oauth.defaultScopes.enumerated() where oauth.scopes[scope] == nil {
            throw fail("oauth.defaultScopes[\(index)]", "scope '\(scope)' is not described in oauth.scopes")
        }
        if let headers = oauth.tokenRequestHeaders { try validate(headers: headers, "oauth.tokenRequestHeaders") }
        if let header = oauth.accessTokenHeader { try headerName(header, "oauth.accessTokenHeader") }
        if let format = oauth.accessTokenFormat, !format.contains("{accessToken}") {
            throw fail("oauth.accessTokenFormat", "must contain the {accessToken} placeholder")
        }
        if let path = oauth.tokenPath { try nonEmpty(path, "oauth.tokenPath") }
        switch oauth.expiry.format {
        case .never:
            guard oauth.expiry.field == nil else { throw fail("oauth.expiry.field", "must be left out when tokens never expire") }
        case .seconds, .stringSeconds, .unixTime:
            guard let field = oauth.expiry.field, !field.isEmpty else { throw fail("oauth.expiry.field", "is required") }
        }
        if oauth.refreshTokenRotates, !oauth.issuesRefreshTokens {
            throw fail("oauth.refreshTokenRotates", "cannot be true when no refresh tokens are issued")
        }
        if let seconds = oauth.refreshTokenIdleExpirySeconds, seconds <= 0 {
            throw fail("oauth.refreshTokenIdleExpirySeconds", "must be a positive number of seconds")
        }
        if let seconds = oauth.refreshBufferSeconds, seconds < 0 {
            throw fail("oauth.refreshBufferSeconds", "must not be negative")
        }
    }

    private func validate(apiKey: ApiKeySettings) throws {
        try httpsURL(apiKey.docs, "apiKey.docs")
        switch apiKey.scheme {
        case .header:
            guard let name = apiKey.headerName else { throw fail("apiKey.headerName", "is required for the header scheme") }
            try headerName(name, "apiKey.headerName")
            guard let format = apiKey.format, format.contains("{apiKey}") else {
                throw fail("apiKey.format", "must contain the {apiKey} placeholder")
            }
        case .basic:
            guard provider.authMode == .basic else { throw fail("apiKey.scheme", "basic is only for auth mode basic") }
            try nonEmpty(apiKey.usernameLabel ?? "", "apiKey.usernameLabel")
            try nonEmpty(apiKey.passwordLabel ?? "", "apiKey.passwordLabel")
        }
        if provider.authMode == .basic, apiKey.scheme != .basic {
            throw fail("apiKey.scheme", "must be basic for auth mode basic")
        }
    }

    private func validateTemplateParameters() throws {
        for (name, parameter) in (provider.templateParameters ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "templateParameters.\(name)"
            guard Self.isPlaceholderName(name) else { throw fail(field, "names must be letters, digits or '_'") }
            try nonEmpty(parameter.description, "\(field).description")
            try nonEmpty(parameter.example, "\(field).example")
            if let pattern = parameter.pattern {
                guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else {
                    throw fail("\(field).pattern", "is not a valid regular expression")
                }
                for (label, value) in [("example", parameter.example), ("defaultValue", parameter.defaultValue)] {
                    guard let value else { continue }
                    let range = NSRange(value.startIndex..., in: value)
                    guard regex.firstMatch(in: value, range: range) != nil else {
                        throw fail("\(field).\(label)", "does not match the pattern")
                    }
                }
            } else if parameter.source == .user {
                throw fail("\(field).pattern", "is required for values typed by a person")
            }
        }
    }

    private func validateIntegrationSettings() throws {
        for (name, setting) in (provider.integrationSettings ?? [:]).sorted(by: { $0.key < $1.key }) {
            try nonEmpty(setting.description, "integrationSettings.\(name).description")
        }
    }

    private func validate(headers: [String: String], _ field: String) throws {
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            try headerName(name, field)
            try nonEmpty(value, "\(field).\(name)")
        }
    }

    // MARK: - Primitive checks

    func nonEmpty(_ value: String, _ field: String) throws {
        if value.trimmingCharacters(in: .whitespaces).isEmpty { throw fail(field, "must not be empty") }
    }

    private func method(_ value: String, _ field: String) throws {
        guard ["GET", "POST", "HEAD"].contains(value) else { throw fail(field, "must be GET, POST or HEAD") }
    }

    func headerName(_ value: String, _ field: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_"))
        guard !value.isEmpty, value.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }) else {
            throw fail(field, "'\(value)' is not a header name")
        }
    }

    /// A plain https URL without placeholders.
    private func httpsURL(_ value: String, _ field: String) throws {
        guard value.range(of: "{") == nil, Self.isHTTPS(value) else { throw fail(field, "must be an https URL") }
    }

    /// An https URL whose `{name}` placeholders are declared template parameters.
    private func templatedURL(_ value: String, _ field: String, builtIn: [String: String] = [:]) throws {
        let filled = try fillPlaceholders(value, field, builtIn: builtIn)
        guard Self.isHTTPS(filled) else { throw fail(field, "must be an https URL") }
    }

    /// A path relative to the proxy base URL, or an absolute https URL.
    private func pathOrURL(_ value: String, _ field: String) throws {
        let filled = try fillPlaceholders(value, field)
        if filled.hasPrefix("/") { return }
        guard Self.isHTTPS(filled) else { throw fail(field, "must be a path starting with '/' or an https URL") }
    }

    private func fillPlaceholders(_ value: String, _ field: String, builtIn: [String: String] = [:]) throws -> String {
        var result = ""
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { throw fail(field, "has an unclosed '{'") }
            let name = String(rest[rest.index(after: open)..<close])
            if let example = builtIn[name] {
                result += example
                rest = rest[rest.index(after: close)...]
                continue
            }
            guard let parameter = provider.templateParameters?[name] else {
                throw fail(field, "placeholder {\(name)} is not declared in templateParameters")
            }
            result += parameter.example
            rest = rest[rest.index(after: close)...]
        }
        guard !rest.contains("}") else { throw fail(field, "has an unmatched '}'") }
        return result + rest
    }

    private static func isHTTPS(_ value: String) -> Bool {
        guard let url = URL(string: value), url.scheme == "https", let host = url.host, !host.isEmpty else { return false }
        return !value.contains(" ")
    }

    private static func isIdentifier(_ value: String) -> Bool {
        !value.isEmpty && value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    private static func isPlaceholderName(_ value: String) -> Bool {
        !value.isEmpty && value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
