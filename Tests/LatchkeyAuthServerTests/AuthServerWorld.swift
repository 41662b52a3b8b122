import Foundation
import LatchkeyAuthServer
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Testing

/// A fake Client ID Metadata Document source: serves the documents it holds, refuses the rest.
struct FakeDocuments: ClientMetadataDocumentSource {
    struct Refused: LocalizedError {
        var errorDescription: String? { "the document could not be fetched" }
    }

    var documents: [String: ClientMetadataDocument]

    func document(for clientID: String) async throws -> ClientMetadataDocument {
        guard let document = documents[clientID] else { throw Refused() }
        return document
    }
}

/// An authorization server over a fresh database, a test clock and one console user.
struct AuthServerWorld {
    let server: AuthorizationServer
    let runtime: LatchkeyRuntime
    let clock: TestClock
    let user: User
    static let publicURL = "https://latchkey.example"
    static let verifier = "verifier-0123456789-0123456789-0123456789-abcdef"
    static var challenge: String { PKCE.challenge(for: verifier) }
    let actor = AuditActor(id: "test")

    static func with(
        _ kind: TestDatabases.Kind,
        documents: (any ClientMetadataDocumentSource)? = nil,
        _ body: (AuthServerWorld) async throws -> Void
    ) async throws {
        let clock = TestClock()
        try await TestDatabases.withRuntime(kind, clock: clock) { runtime in
            let user = try await runtime.tenants.createUser(
                tenantID: runtime.defaultTenant.id,
                email: "alice@example.com",
                displayName: "Alice",
                passwordHash: "x",
                isAdmin: false,
                actor: .cli
            )
            let server = AuthorizationServer(
                settings: AuthServerSettings(publicURL: publicURL + "/"),
                tenantID: runtime.defaultTenant.id,
                database: runtime.database,
                keyring: runtime.keyring,
                audit: runtime.audit,
                clock: clock,
                logger: runtime.logger,
                documents: documents
            )
            try await body(AuthServerWorld(server: server, runtime: runtime, clock: clock, user: user))
        }
    }

    func registerPublic(redirect: String = "https://client.example/cb") async throws -> OAuthClientRecord {
        try await server.register(
            ClientRegistrationRequest(redirectURIs: [redirect], clientName: "Client", tokenEndpointAuthMethod: "none"),
            actor: actor
        ).client
    }

    func request(_ client: OAuthClientRecord, _ overrides: [String: String?] = [:]) -> AuthorizationRequest {
        var fields = [
            "client_id": client.id, "redirect_uri": client.redirectURIs[0], "response_type": "code", "state": "st-1",
            "code_challenge": Self.challenge, "code_challenge_method": "S256", "resource": Self.publicURL + "/mcp",
        ]
        for (key, value) in overrides { fields[key] = value }
        return AuthorizationRequest(fields: fields)
    }

    func consent(_ request: AuthorizationRequest) async throws -> ValidAuthorization {
        guard case .consent(let valid) = await server.check(request) else { throw Failure("not a consent: \(await server.check(request))") }
        return valid
    }

    /// Approves `client` for the user's `services`; returns the code from the redirect.
    func code(_ client: OAuthClientRecord, services: [String] = ["github"], scope: String? = nil) async throws -> String {
        let valid = try await consent(request(client, ["scope": scope]))
        let redirect = try await server.approve(valid, userID: user.id, services: services, actor: actor)
        return try #require(Self.query(redirect)["code"])
    }

    func redeem(_ code: String, client: OAuthClientRecord, verifier: String = verifier) async throws -> TokenResponse {
        try await server.token(
            ["grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": client.redirectURIs[0]],
            credentials: ClientCredentials(clientID: client.id, secret: nil, basic: false),
            actor: actor
        )
    }

    func refresh(_ token: String, client: OAuthClientRecord, scope: String? = nil) async throws -> TokenResponse {
        var form = ["grant_type": "refresh_token", "refresh_token": token]
        form["scope"] = scope
        return try await server.token(form, credentials: ClientCredentials(clientID: client.id, secret: nil, basic: false), actor: actor)
    }

    static func query(_ url: String) -> [String: String] {
        Dictionary((URLComponents(string: url)?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// The OAuth error a call throws, or nil.
func oauthError(_ body: () async throws -> some Any) async -> OAuthError? {
    do {
        _ = try await body()
        return nil
    } catch let error as OAuthError {
        return error
    } catch {
        return OAuthError("unexpected", "\(error)")
    }
}
