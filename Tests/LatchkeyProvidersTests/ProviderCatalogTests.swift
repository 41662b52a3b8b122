import Foundation
import LatchkeyProviders
import Testing

@Suite("Bundled provider catalog")
struct BundledCatalogTests {
    let catalog: ProviderCatalog

    init() throws {
        catalog = try ProviderCatalog.bundled()
    }

    @Test func loadsAtLeastThirtyRealProvidersAndTheGenericOnes() throws {
        let generic: Set = ["oauth2", "oidc"]
        let real = catalog.all.filter { !generic.contains($0.id) }
        #expect(real.count >= 30)
        for id in generic {
            let provider = try #require(catalog.provider(id: id))
            #expect(provider.oauth?.configurableEndpoints == true)
            #expect(provider.oauth?.tokenURL == nil)
            #expect(provider.oauth?.authorizationURL == nil)
        }
        #expect(catalog.provider(id: "oidc")?.integrationSettings?["discoveryURL"]?.required == true)
        #expect(catalog.provider(id: "oauth2")?.integrationSettings?["tokenURL"]?.required == true)
    }

    @Test func namesTheProvidersTheIssueAsksFor() {
        let expected = [
            "github", "gitlab", "bitbucket", "slack", "discord", "google", "microsoft", "notion", "linear", "atlassian", "asana",
            "salesforce", "hubspot", "dropbox", "box", "zoom", "figma", "airtable", "twitter", "linkedin", "spotify", "shopify",
            "zendesk", "intercom", "strava", "openai", "anthropic", "stripe", "twilio",
        ]
        for id in expected {
            #expect(catalog.provider(id: id) != nil, "missing \(id)")
        }
    }

    @Test func isSortedByDisplayName() {
        let names = catalog.all.map { $0.displayName.lowercased() }
        #expect(names == names.sorted())
    }

    @Test func everyEntryRevalidatesFromItsOwnEncoding() throws {
        let encoder = JSONEncoder()
        var files: [String: Data] = [:]
        for provider in catalog.all {
            files["\(provider.id).json"] = try encoder.encode(provider)
        }
        let again = try ProviderCatalog(files: files)
        #expect(again.all == catalog.all)
    }

    @Test func everyFixedEndpointIsDocumented() {
        for provider in catalog.all {
            guard let oauth = provider.oauth, oauth.configurableEndpoints != true else { continue }
            let endpoints = [oauth.authorizationURL, oauth.tokenURL, oauth.revocationURL, oauth.userInfoURL].compactMap { $0 }
            #expect(!endpoints.isEmpty, "\(provider.id)")
            for endpoint in endpoints {
                #expect(endpoint.docs.hasPrefix("https://"), "\(provider.id): \(endpoint.url)")
            }
            #expect(provider.probe != nil, "\(provider.id)")
        }
    }

    @Test func githubQuirks() throws {
        let oauth = try #require(catalog.provider(id: "github")?.oauth)
        #expect(oauth.tokenRequestHeaders?["Accept"] == "application/json")
        #expect(oauth.clientAuth == .clientSecretPost)
        #expect(oauth.expiry.format == .never)
        #expect(oauth.issuesRefreshTokens == false)
        #expect(oauth.tokenURL?.url == "https://github.com/login/oauth/access_token")
        #expect(oauth.revocationStyle == .deleteGrant)
        #expect(oauth.revocationURL?.url == "https://api.github.com/applications/{client_id}/grant")
    }

    @Test func revocationStyles() throws {
        for id in ["slack", "dropbox", "strava"] {
            #expect(catalog.provider(id: id)?.oauth?.revocationStyle == .bearer, "\(id)")
        }
        for provider in catalog.all {
            guard let oauth = provider.oauth, oauth.revocationStyle == nil, oauth.revocationURL != nil else { continue }
            #expect(oauth.revocationURL?.url.contains("{client_id}") == false, "\(provider.id)")
        }
    }

    @Test func slackQuirks() throws {
        let oauth = try #require(catalog.provider(id: "slack")?.oauth)
        #expect(oauth.tokenPath == "authed_user")
        #expect(oauth.scopeSeparator == ",")
        #expect(oauth.scopeParameter == "user_scope")
        #expect(oauth.tokenURL?.url.hasSuffix("/oauth.v2.access") == true)
    }

    @Test func googleQuirks() throws {
        let oauth = try #require(catalog.provider(id: "google")?.oauth)
        #expect(oauth.authorizationParams?["access_type"] == "offline")
        #expect(oauth.authorizationParams?["prompt"] == "consent")
        #expect(oauth.pkce)
        #expect(oauth.revocationURL != nil)
        for fragment in ["/auth/drive", "/auth/gmail", "/auth/calendar"] {
            let described = oauth.scopes.filter { $0.key.contains(fragment) && !$0.value.isEmpty }
            #expect(!described.isEmpty, "no described scope for \(fragment)")
        }
    }

    @Test func microsoftQuirks() throws {
        let provider = try #require(catalog.provider(id: "microsoft"))
        #expect(provider.templateParameters?["tenant"]?.defaultValue == "common")
        #expect(provider.oauth?.tokenURL?.url.contains("{tenant}") == true)
        #expect(provider.oauth?.scopes["offline_access"] != nil)
        #expect(provider.oauth?.refreshTokenRotates == true)
    }

    @Test func templatedProviders() throws {
        let shopify = try #require(catalog.provider(id: "shopify"))
        #expect(shopify.oauth?.tokenURL?.url.contains("{shop}") == true)
        #expect(shopify.templateParameters?["shop"]?.source == .user)
        #expect(shopify.oauth?.accessTokenHeader == "X-Shopify-Access-Token")
        let zendesk = try #require(catalog.provider(id: "zendesk"))
        #expect(zendesk.oauth?.authorizationURL?.url.contains("{subdomain}") == true)
        #expect(zendesk.templateParameters?["subdomain"] != nil)
        let salesforce = try #require(catalog.provider(id: "salesforce"))
        #expect(salesforce.templateParameters?["instance_url"]?.source == .tokenResponse)
        #expect(salesforce.proxyBaseURL?.hasPrefix("{instance_url}") == true)
    }

    @Test func otherQuirks() throws {
        #expect(catalog.provider(id: "notion")?.oauth?.clientAuth == .clientSecretBasic)
        #expect(catalog.provider(id: "notion")?.oauth?.expiry.format == .never)
        #expect(catalog.provider(id: "atlassian")?.oauth?.authorizationParams?["audience"] == "api.atlassian.com")
        #expect(catalog.provider(id: "atlassian")?.oauth?.refreshTokenRotates == true)
        #expect(catalog.provider(id: "dropbox")?.oauth?.authorizationParams?["token_access_type"] == "offline")
        #expect(catalog.provider(id: "twitter")?.oauth?.pkce == true)
        #expect(catalog.provider(id: "twitter")?.oauth?.refreshTokenRotates == true)
        #expect(catalog.provider(id: "airtable")?.oauth?.pkce == true)
        #expect(catalog.provider(id: "strava")?.oauth?.scopeSeparator == ",")
    }

    @Test func apiKeyAndBasicProviders() throws {
        let openai = try #require(catalog.provider(id: "openai"))
        #expect(openai.authMode == .apiKey)
        #expect(openai.apiKey?.headerName == "Authorization")
        #expect(openai.apiKey?.format == "Bearer {apiKey}")
        let anthropic = try #require(catalog.provider(id: "anthropic"))
        #expect(anthropic.apiKey?.headerName == "x-api-key")
        #expect(anthropic.requestHeaders?["anthropic-version"] != nil)
        #expect(catalog.provider(id: "stripe")?.apiKey?.format == "Bearer {apiKey}")
        let twilio = try #require(catalog.provider(id: "twilio"))
        #expect(twilio.authMode == .basic)
        #expect(twilio.apiKey?.scheme == .basic)
        #expect(twilio.apiKey?.usernameLabel == "Account SID")
    }
}

@Suite("Catalog validation")
struct CatalogValidationTests {
    static let valid = """
        {
          "id": "acme",
          "displayName": "Acme",
          "categories": ["testing"],
          "icon": "acme",
          "docsURL": "https://docs.acme.example/",
          "authMode": "oauth2",
          "oauth": {
            "authorizationURL": {"url": "https://acme.example/oauth/authorize", "docs": "https://docs.acme.example/oauth"},
            "tokenURL": {"url": "https://acme.example/oauth/token", "docs": "https://docs.acme.example/oauth"},
            "scopeSeparator": " ",
            "defaultScopes": ["read"],
            "scopes": {"read": "Read things"},
            "pkce": true,
            "clientAuth": "client_secret_post",
            "expiry": {"format": "seconds", "field": "expires_in"},
            "issuesRefreshTokens": true,
            "refreshTokenRotates": false
          },
          "proxyBaseURL": "https://api.acme.example",
          "probe": {"method": "GET", "path": "/me", "expectStatus": 200}
        }
        """

    func load(_ json: String, file: String = "acme.json") throws -> ProviderCatalog {
        try ProviderCatalog(files: [file: Data(json.utf8)])
    }

    func rejection(_ json: String, file: String = "acme.json") -> CatalogError? {
        do {
            _ = try load(json, file: file)
            return nil
        } catch let error as CatalogError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func acceptsAValidEntry() throws {
        let catalog = try load(Self.valid)
        #expect(catalog.provider(id: "acme")?.oauth?.scopes["read"] == "Read things")
    }

    @Test func rejectsAnUnknownKey() throws {
        let json = Self.valid.replacingOccurrences(of: "\"pkce\": true", with: "\"pkce\": true, \"pcke\": false")
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: oauth.pcke: unknown key")
    }

    @Test func rejectsAnHTTPURL() throws {
        let json = Self.valid.replacingOccurrences(of: "https://acme.example/oauth/token", with: "http://acme.example/oauth/token")
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: oauth.tokenURL: must be an https URL")
    }

    @Test func rejectsAnUndeclaredPlaceholder() throws {
        let json = Self.valid.replacingOccurrences(of: "https://acme.example/oauth/token", with: "https://{shop}.acme.example/oauth/token")
        let error = try #require(rejection(json))
        #expect(error.file == "acme.json")
        #expect(error.field == "oauth.tokenURL")
        #expect(error.message.contains("{shop}"))
    }

    @Test func acceptsADeclaredPlaceholder() throws {
        let json = Self.valid
            .replacingOccurrences(of: "https://acme.example/oauth/token", with: "https://{shop}.acme.example/oauth/token")
            .replacingOccurrences(
                of: "\"authMode\": \"oauth2\",",
                with: """
                    "authMode": "oauth2",
                    "templateParameters": {"shop": {"description": "Shop name", "pattern": "[a-z]+", "example": "demo", "source": "user"}},
                    """
            )
        #expect(try load(json).provider(id: "acme")?.templateParameters?["shop"]?.example == "demo")
    }

    @Test func acceptsTheClientIDPlaceholderOnlyForGrantDeletion() throws {
        let revocation = """
            "revocationURL": {"url": "https://api.acme.example/applications/{client_id}/grant", "docs": "https://docs.acme.example/oauth"},
            """
        let withGrant = Self.valid.replacingOccurrences(
            of: "\"scopeSeparator\"",
            with: revocation + "\"revocationStyle\": \"delete_grant\", \"scopeSeparator\""
        )
        #expect(try load(withGrant).provider(id: "acme")?.oauth?.revocationStyle == .deleteGrant)

        let withoutStyle = Self.valid.replacingOccurrences(of: "\"scopeSeparator\"", with: revocation + "\"scopeSeparator\"")
        #expect(try #require(rejection(withoutStyle)).field == "oauth.revocationURL")

        let styleWithoutURL = Self.valid.replacingOccurrences(of: "\"scopeSeparator\"", with: "\"revocationStyle\": \"bearer\", \"scopeSeparator\"")
        #expect(try #require(rejection(styleWithoutURL)).description == "acme.json: oauth.revocationStyle: needs a revocationURL")
    }

    @Test func rejectsAMissingTokenURL() throws {
        let json = Self.valid.replacingOccurrences(
            of: "\"tokenURL\": {\"url\": \"https://acme.example/oauth/token\", \"docs\": \"https://docs.acme.example/oauth\"},",
            with: ""
        )
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: oauth.tokenURL: is required")
    }

    @Test func rejectsADuplicateID() throws {
        let error = try #require(
            throws: CatalogError.self,
            performing: {
                try ProviderCatalog(files: ["acme.json": Data(Self.valid.utf8), "b.json": Data(Self.valid.utf8)])
            }
        )
        #expect(error.description == "b.json: id: duplicate provider id 'acme', also defined in acme.json")
    }

    @Test func rejectsAnIDThatDoesNotMatchTheFileName() throws {
        let error = try #require(rejection(Self.valid, file: "copy.json"))
        #expect(error.description == "copy.json: id: 'acme' does not match the file name")
    }

    @Test func rejectsAnUppercaseID() throws {
        let json = Self.valid.replacingOccurrences(of: "\"id\": \"acme\"", with: "\"id\": \"Acme\"")
        let error = try #require(rejection(json, file: "Acme.json"))
        #expect(error.description == "Acme.json: id: must be lowercase letters, digits, '_' or '-'")
    }

    @Test func rejectsAnUndescribedDefaultScope() throws {
        let json = Self.valid.replacingOccurrences(of: "\"defaultScopes\": [\"read\"]", with: "\"defaultScopes\": [\"read\", \"write\"]")
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: oauth.defaultScopes[1]: scope 'write' is not described in oauth.scopes")
    }

    @Test func rejectsAnUnknownAuthMode() throws {
        let json = Self.valid.replacingOccurrences(of: "\"authMode\": \"oauth2\"", with: "\"authMode\": \"oauth3\"")
        let error = try #require(rejection(json))
        #expect(error.file == "acme.json")
        #expect(error.field == "authMode")
    }

    @Test func rejectsNegativeNumbers() throws {
        let json = Self.valid.replacingOccurrences(of: "\"pkce\": true", with: "\"pkce\": true, \"refreshBufferSeconds\": -5")
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: oauth.refreshBufferSeconds: must not be negative")
    }

    @Test func rejectsMissingApiKeySettings() throws {
        let json = Self.valid.replacingOccurrences(of: "\"authMode\": \"oauth2\"", with: "\"authMode\": \"api_key\"")
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: apiKey: is required for auth mode api_key")
    }

    @Test func rejectsAMissingDocsURLOnAnEndpoint() throws {
        let json = Self.valid.replacingOccurrences(
            of: "{\"url\": \"https://acme.example/oauth/token\", \"docs\": \"https://docs.acme.example/oauth\"}",
            with: "{\"url\": \"https://acme.example/oauth/token\"}"
        )
        let error = try #require(rejection(json))
        #expect(error.description == "acme.json: oauth.tokenURL.docs: is required")
    }
}

/// RFC 9207 in the catalog: a fixed provider may name its issuer and the page saying it sends `iss`.
@Suite struct AuthorizationResponseIssuerTests {
    static func files(_ issuer: String?, provider id: String = "gitlab") throws -> [String: Data] {
        let catalog = try ProviderCatalog.bundled()
        var provider = try #require(catalog.provider(id: id))
        provider.oauth?.authorizationResponseIssuer = try issuer.map {
            try JSONDecoder().decode(DocumentedEndpoint.self, from: Data(#"{"url": "\#($0)", "docs": "https://docs.example/rfc9207"}"#.utf8))
        }
        return ["\(id).json": try JSONEncoder().encode(provider)]
    }

    @Test func anHTTPSIssuerWithDocsIsRead() throws {
        let catalog = try ProviderCatalog(files: try Self.files("https://gitlab.com"))
        #expect(catalog.provider(id: "gitlab")?.oauth?.authorizationResponseIssuer?.url == "https://gitlab.com")
    }

    @Test func aPlainHTTPIssuerOrOneOnAGenericProviderIsRefused() throws {
        let plain = try Self.files("http://gitlab.com")
        let generic = try Self.files("https://id.example", provider: "oidc")
        #expect(throws: CatalogError.self) { try ProviderCatalog(files: plain) }
        #expect(throws: CatalogError.self) { try ProviderCatalog(files: generic) }
    }
}
