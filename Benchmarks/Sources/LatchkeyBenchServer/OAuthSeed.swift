import Foundation
import LatchkeyAuthServer
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage

/// `--oauth-seed DIR`: what `oauth/token.sh` sends to `/oauth/token`, made in process before the server starts (going
/// through sign-in and consent for every code would measure the consent page instead). A public client (auth
/// `none`) with `redirect` is registered for a console person; for each run r, `DIR/codes.txt-r` gets `codes` lines
/// "code verifier" (each an authorization code with PKCE S256, as `/oauth/authorize` issues it after consent) and
/// `DIR/refresh.txt-r` gets `refresh` refresh tokens, each from a code exchange of its own. Prints
/// `OAUTH_CLIENT_ID=`. Codes live 10 minutes: the runs must start within that.
struct OAuthSeed {
    var directory: String
    var runs = 4
    var codes = 50_000
    var refresh = 32
    var redirect = "http://127.0.0.1:9/callback"

    func run(runtime: LatchkeyRuntime) async throws {
        let tenantID = runtime.defaultTenant.id
        let server = runtime.authorizationServer()
        let person = try await runtime.tenants.createUser(
            tenantID: tenantID,
            email: "oauth-benchmark@example.com",
            displayName: "OAuth benchmark",
            passwordHash: "!",  // no password: this person never signs in
            isAdmin: false,
            actor: .cli
        )
        let registration = try JSONDecoder().decode(
            ClientRegistrationRequest.self,
            from: Data(#"{"client_name":"benchmark","token_endpoint_auth_method":"none","redirect_uris":["\#(redirect)"]}"#.utf8)
        )
        let client = try await server.register(registration, actor: .cli).client
        let started = Date()
        for run in 0..<runs {
            var codeLines: [String] = []
            codeLines.reserveCapacity(codes)
            for _ in 0..<codes { codeLines.append(try await mint(server, client: client.id, userID: person.id).joined(separator: " ")) }
            var refreshLines: [String] = []
            for _ in 0..<refresh {
                let (code, verifier) = try await mint(server, client: client.id, userID: person.id).pair
                let form = ["grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client.id, "redirect_uri": redirect]
                let credentials = ClientCredentials(clientID: client.id, secret: nil, basic: false)
                refreshLines.append(try await server.token(form, credentials: credentials, actor: .cli).refreshToken)
            }
            try (codeLines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/codes.txt-\(run)", atomically: true, encoding: .utf8)
            try (refreshLines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/refresh.txt-\(run)", atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("oauth seed: run \(run + 1)/\(runs) in \(Int(Date().timeIntervalSince(started))) s\n".utf8))
        }
        say("OAUTH_CLIENT_ID=\(client.id)")
    }

    /// One code for `client`, as consent issues it: [code, verifier].
    private func mint(_ server: AuthorizationServer, client: String, userID: String) async throws -> [String] {
        let verifier = SecureRandom.token(byteCount: 32)
        let request = AuthorizationRequest(fields: [
            "response_type": "code", "client_id": client, "redirect_uri": redirect, "code_challenge": PKCE.challenge(for: verifier),
            "code_challenge_method": "S256", "state": "s",
        ])
        guard case .consent(let authorization) = await server.check(request) else { throw SeedError("the authorization request was refused") }
        let back = try await server.approve(authorization, userID: userID, services: [], actor: .cli)
        guard let code = URLComponents(string: back)?.queryItems?.first(where: { $0.name == "code" })?.value else {
            throw SeedError("no code in \(back)")
        }
        return [code, verifier]
    }

    struct SeedError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

extension Array where Element == String {
    fileprivate var pair: (String, String) { (self[0], self[1]) }
}
