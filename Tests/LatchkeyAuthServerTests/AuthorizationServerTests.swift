import Foundation
import LatchkeyAuthServer
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Testing

@Suite("Authorization server")
struct AuthorizationServerTests {
    static var kinds: [TestDatabases.Kind] { TestDatabases.kinds }

    @Test(arguments: kinds)
    func registrationIsPersistedAndSecretsAreHashed(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let registration = try await world.server.register(
                ClientRegistrationRequest(redirectURIs: ["https://client.example/cb"], clientName: "Confidential"),
                actor: world.actor
            )
            let secret = try #require(registration.clientSecret)
            #expect(secret.hasPrefix("lk_ocs_"))
            let stored = try #require(try await OAuthClientRepository(database: world.runtime.database).find(id: registration.client.id))
            #expect(stored.secretHash != nil && stored.secretHash != secret)
            #expect(stored.redirectURIs == ["https://client.example/cb"])
            // Authenticates with its secret, not without or with another.
            let ok = try await world.server.authenticate(ClientCredentials(clientID: stored.id, secret: secret, basic: true))
            #expect(ok.id == stored.id)
            let wrong = await oauthError { try await world.server.authenticate(ClientCredentials(clientID: stored.id, secret: "nope", basic: true)) }
            #expect(wrong?.code == "invalid_client" && wrong?.status == 401)
            let unknown = await oauthError { try await world.server.authenticate(ClientCredentials(clientID: "lk_dc_x", secret: nil, basic: false)) }
            #expect(unknown?.code == "invalid_client" && unknown?.status == 401)
        }
    }

    @Test func registrationRefusesBadMetadata() {
        func code(_ request: ClientRegistrationRequest) -> String? {
            do {
                _ = try request.validated()
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(ClientRegistrationRequest(redirectURIs: [])) == "invalid_redirect_uri")
        #expect(code(ClientRegistrationRequest(redirectURIs: ["http://client.example/cb"])) == "invalid_redirect_uri")
        #expect(code(ClientRegistrationRequest(redirectURIs: ["javascript:alert(1)"])) == "invalid_redirect_uri")
        #expect(code(ClientRegistrationRequest(redirectURIs: Array(repeating: "https://c.example/cb", count: 11))) == "invalid_redirect_uri")
        #expect(
            code(ClientRegistrationRequest(redirectURIs: ["https://c.example/cb"], tokenEndpointAuthMethod: "private_key_jwt"))
                == "invalid_client_metadata"
        )
        #expect(
            code(ClientRegistrationRequest(redirectURIs: ["https://c.example/cb"], grantTypes: ["client_credentials"])) == "invalid_client_metadata"
        )
        #expect(
            code(ClientRegistrationRequest(redirectURIs: ["https://c.example/cb"], clientName: String(repeating: "n", count: 201)))
                == "invalid_client_metadata"
        )
        #expect(code(ClientRegistrationRequest(redirectURIs: ["https://c.example/cb"], applicationType: "service")) == "invalid_client_metadata")
        let valid = try? ClientRegistrationRequest(redirectURIs: ["http://127.0.0.1:3000/cb"], tokenEndpointAuthMethod: "none").validated()
        #expect(valid?.applicationType == "native" && valid?.isConfidential == false)
    }

    @Test(arguments: kinds)
    func unknownClientOrRedirectIsAnErrorPageNeverARedirect(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let unknown = await world.server.check(world.request(client, ["client_id": "lk_dc_unknown"]))
            #expect(unknown.isErrorPage)
            for variant in ["https://client.example/cb/", "https://CLIENT.example/cb", "https://client.example/cb#x", "https://evil.example/cb"] {
                #expect(await world.server.check(world.request(client, ["redirect_uri": variant])).isErrorPage, "\(variant)")
            }
        }
    }

    @Test(arguments: kinds)
    func laterProblemsRedirectWithStateAndIssuer(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let cases: [([String: String?], String)] = [
                (["code_challenge": nil], "invalid_request"),
                (["code_challenge_method": "plain"], "invalid_request"),
                (["code_challenge_method": nil], "invalid_request"),
                (["code_challenge": "short"], "invalid_request"),
                (["response_type": "token"], "unsupported_response_type"),
                (["resource": "https://other.example/mcp"], "invalid_target"),
            ]
            for (overrides, error) in cases {
                guard case .redirect(let url) = await world.server.check(world.request(client, overrides)) else {
                    Issue.record("no redirect for \(overrides)")
                    continue
                }
                let query = AuthServerWorld.query(url)
                #expect(url.hasPrefix("https://client.example/cb?"))
                #expect(query["error"] == error)
                #expect(query["state"] == "st-1")
                #expect(query["iss"] == "https://latchkey.example")
            }
        }
    }

    @Test(arguments: kinds)
    func resourceIsReadLenientlyAndScopesNarrowed(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            for resource in ["HTTPS://Latchkey.Example/mcp", "https://latchkey.example/mcp/", "https://latchkey.example:443/mcp"] {
                let valid = try await world.consent(world.request(client, ["resource": resource, "scope": "claudeai"]))
                #expect(valid.resource == "https://latchkey.example/mcp")
                #expect(valid.scopes == ["mcp:tools"])
            }
            // The path is not case-insensitive, and two trailing slashes are not one.
            #expect(await world.server.check(world.request(client, ["resource": "https://latchkey.example/MCP"])).isRedirect)
            #expect(await world.server.check(world.request(client, ["resource": "https://latchkey.example/mcp//"])).isRedirect)
        }
    }

    @Test(arguments: kinds)
    func codeRedeemsOnceAndAReplayRevokesItsTokens(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let code = try await world.code(client, services: ["github", "slack"])
            // Failed checks do not consume the code.
            let badVerifier = await oauthError { try await world.redeem(code, client: client, verifier: String(repeating: "x", count: 50)) }
            #expect(badVerifier?.code == "invalid_grant")
            let other = try await world.registerPublic()
            let otherClient = await oauthError { try await world.redeem(code, client: other) }
            #expect(otherClient?.code == "invalid_grant")
            let tokens = try await world.redeem(code, client: client)
            #expect(tokens.accessToken.hasPrefix("lk_at_") && tokens.refreshToken.hasPrefix("lk_rt_"))
            #expect(tokens.expiresIn == 3600 && tokens.scope == "mcp:tools")
            let verified = try #require(try await world.server.verifyAccessToken(tokens.accessToken))
            #expect(verified.userID == world.user.id && verified.clientID == client.id)
            #expect(verified.services == ["github", "slack"] && verified.resource == "https://latchkey.example/mcp")
            // The replay fails and revokes what the code issued.
            let replay = await oauthError { try await world.redeem(code, client: client) }
            #expect(replay?.code == "invalid_grant")
            #expect(try await world.server.verifyAccessToken(tokens.accessToken) == nil)
            let refresh = await oauthError { try await world.refresh(tokens.refreshToken, client: client) }
            #expect(refresh?.code == "invalid_grant")
        }
    }

    @Test(arguments: kinds)
    func codeExpiresAfterTenMinutes(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let code = try await world.code(client)
            world.clock.advance(by: 601)
            let expired = await oauthError { try await world.redeem(code, client: client) }
            #expect(expired?.code == "invalid_grant" && expired?.description.contains("expired") == true)
        }
    }

    @Test(arguments: kinds)
    func refreshRotatesAndReuseRevokesTheFamily(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let first = try await world.redeem(try await world.code(client), client: client)
            let second = try await world.refresh(first.refreshToken, client: client)
            #expect(second.refreshToken != first.refreshToken)
            #expect(try await world.server.verifyAccessToken(second.accessToken) != nil)
            // The old refresh token again: refused, and every token of the family is revoked.
            let reuse = await oauthError { try await world.refresh(first.refreshToken, client: client) }
            #expect(reuse?.code == "invalid_grant")
            world.clock.advance(by: 10)  // past the verification cache
            #expect(try await world.server.verifyAccessToken(second.accessToken) == nil)
            let next = await oauthError { try await world.refresh(second.refreshToken, client: client) }
            #expect(next?.code == "invalid_grant")
        }
    }

    /// Concurrent requests share the write of what they issue: each of many families rotates at once and every one
    /// succeeds with its own tokens, while a refresh token or a code presented by several requests at once wins once.
    @Test(arguments: kinds)
    func concurrentExchangesEachWinOnceAndIndependentOnesAllSucceed(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            var firsts: [TokenResponse] = []
            for _ in 0..<12 { firsts.append(try await world.redeem(try await world.code(client), client: client)) }
            let rotated = try await withThrowingTaskGroup(of: TokenResponse.self) { group in
                for first in firsts { group.addTask { try await world.refresh(first.refreshToken, client: client) } }
                return try await group.reduce(into: [TokenResponse]()) { $0.append($1) }
            }
            #expect(Set(rotated.map(\.refreshToken)).count == 12)
            for token in rotated { #expect(try await world.server.verifyAccessToken(token.accessToken) != nil) }
            // One refresh token, eight requests at once: one rotation, seven refusals.
            let shared = rotated[0].refreshToken
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { (try? await world.refresh(shared, client: client)) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            // One code, six redemptions at once: one answer.
            let code = try await world.code(client)
            let redeemed = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<6 { group.addTask { (try? await world.redeem(code, client: client)) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(redeemed.filter { $0 }.count == 1)
            // The other families were not touched by the refusals.
            for token in rotated.dropFirst() { #expect(try await world.refresh(token.refreshToken, client: client).accessToken.hasPrefix("lk_at_")) }
        }
    }

    @Test(arguments: kinds)
    func refreshNarrowsScopeButNeverWidens(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let first = try await world.redeem(try await world.code(client, scope: "claudeai"), client: client)
            #expect(first.scope == "mcp:tools")
            let same = try await world.refresh(first.refreshToken, client: client, scope: "mcp:tools")
            #expect(same.scope == "mcp:tools")
            #expect(throws: OAuthError.self) { try ScopePolicy.refresh("mcp:tools", granted: []) }
            #expect(try ScopePolicy.refresh(nil, granted: ["mcp:tools"]) == ["mcp:tools"])
        }
    }

    @Test(arguments: kinds)
    func tokenEndpointRefusesOtherGrantTypesAndUnknownClients(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let credentials = ClientCredentials(clientID: client.id, secret: nil, basic: false)
            let implicit = await oauthError {
                try await world.server.token(["grant_type": "client_credentials"], credentials: credentials, actor: world.actor)
            }
            #expect(implicit?.code == "unsupported_grant_type")
            let unknown = await oauthError {
                try await world.server.token(
                    ["grant_type": "authorization_code", "code": "x", "code_verifier": "y"],
                    credentials: ClientCredentials(clientID: "lk_dc_gone", secret: nil, basic: false),
                    actor: world.actor
                )
            }
            #expect(unknown?.code == "invalid_client" && unknown?.status == 401)
            let foreign = await oauthError {
                try await world.server.token(
                    ["grant_type": "refresh_token", "refresh_token": "x", "resource": "https://other.example/mcp"],
                    credentials: credentials,
                    actor: world.actor
                )
            }
            #expect(foreign?.code == "invalid_target")
        }
    }

    @Test(arguments: kinds)
    func revokingAGrantOrSigningOutCutsTokensOff(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let client = try await world.registerPublic()
            let tokens = try await world.redeem(try await world.code(client), client: client)
            #expect(try await world.server.verifyAccessToken(tokens.accessToken) != nil)
            let grants = try await world.server.grants(of: world.user.id)
            #expect(grants.count == 1 && grants[0].lastUsedAt != nil)
            #expect(try await world.server.revokeAllGrants(userID: world.user.id, actor: world.actor) == 1)
            #expect(try await world.server.verifyAccessToken(tokens.accessToken) == nil)
            #expect(try await world.server.grants(of: world.user.id).isEmpty)
            // RFC 7009: revoking a refresh token revokes its family.
            let again = try await world.redeem(try await world.code(client), client: client)
            try await world.server.revoke(token: again.refreshToken, client: client, actor: world.actor)
            #expect(try await world.server.verifyAccessToken(again.accessToken) == nil)
            #expect(try await world.server.introspect(token: again.accessToken)["active"] as? Bool == false)
        }
    }

    @Test(arguments: kinds)
    func metadataDocumentClientsArePublic(kind: TestDatabases.Kind) async throws {
        let url = "https://app.example/oauth/client.json"
        let documents = FakeDocuments(documents: [
            url: ClientMetadataDocument(clientID: url, clientName: "Doc App", clientURI: nil, logoURI: nil, redirectURIs: ["https://app.example/cb"])
        ])
        try await AuthServerWorld.with(kind, documents: documents) { world in
            let client = try #require(try await world.server.client(id: url))
            #expect(client.authMethod == "none" && client.name == "Doc App")
            let tokens = try await world.redeem(try await world.code(client), client: client)
            #expect(try await world.server.verifyAccessToken(tokens.accessToken)?.clientID == url)
            let missing = await world.server.check(world.request(client, ["client_id": "https://app.example/other.json"]))
            #expect(missing.isErrorPage)
        }
    }

    @Test func metadataAdvertisesOnlyWhatIsImplemented() {
        let settings = AuthServerSettings(publicURL: "https://latchkey.example/")
        let metadata = AuthorizationServerMetadata(settings: settings)
        #expect(metadata.issuer == "https://latchkey.example")
        #expect(metadata.codeChallengeMethodsSupported == ["S256"])
        #expect(metadata.grantTypesSupported == ["authorization_code", "refresh_token"])
        #expect(metadata.tokenEndpointAuthMethodsSupported.contains("none"))
        let resource = ProtectedResourceMetadata(settings: settings)
        #expect(resource.resource == "https://latchkey.example/mcp")
        #expect(resource.authorizationServers == [metadata.issuer])
    }
}

extension AuthorizationCheck {
    var isErrorPage: Bool {
        if case .errorPage = self { return true }
        return false
    }
    var isRedirect: Bool {
        if case .redirect = self { return true }
        return false
    }
}

@Suite("Authorization server registrations")
struct UnusedRegistrationTests {
    @Test(arguments: TestDatabases.kinds)
    func unusedDynamicRegistrationsExpireButGrantedOnesStay(kind: TestDatabases.Kind) async throws {
        try await AuthServerWorld.with(kind) { world in
            let unused = try await world.registerPublic()
            let used = try await world.registerPublic()
            _ = try await world.redeem(try await world.code(used), client: used)
            world.clock.advance(by: 31 * 24 * 3600)
            #expect(try await world.server.purgeUnusedClients() == 1)
            #expect(try await world.server.client(id: unused.id) == nil)
            #expect(try await world.server.client(id: used.id) != nil)
        }
    }
}
