import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import NIOCore

/// The built-in demo OAuth 2.0 provider of `latchkey serve --demo`, under `/sandbox/…`: a consent page, a token
/// endpoint (authorization code with PKCE S256, refresh with rotation), revocation, user-info and a tiny API. It
/// lets a newcomer click through connect → use → disconnect without registering a real OAuth app. State lives in
/// memory: it is a demo, not a provider.
struct SandboxProvider: Sendable {
    /// Where the sandbox lives and the secret its client authenticates with.
    let registration: SandboxRegistration
    let sessions: WebSessions
    let clock: any LatchkeyClock
    let state = SandboxState()

    var callbackURL: String { registration.callbackURL }
    var clientSecret: String { registration.clientSecret }

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("sandbox/authorize", use: consent)
        router.group().add(middleware: CSRFMiddleware { context in csrf(context) }).post("sandbox/authorize", use: decide)
        router.post("sandbox/token", use: token)
        router.post("sandbox/revoke", use: revoke)
        router.get("sandbox/userinfo", use: userInfo)
        router.get("sandbox/api/me", use: userInfo)
        router.get("sandbox/api/items", use: items)
    }

    // MARK: Authorization

    struct AuthorizationQuery {
        var redirectURI: String
        var state: String
        var scopes: [String]
        var challenge: String?

        /// Checks the request like a careful provider: known client, exact redirect URI, S256 only.
        init(_ fields: [String: String], callbackURL: String) throws {
            guard fields["client_id"] == SandboxRegistration.clientID else {
                throw LatchkeyError.invalidRequest("The sandbox does not know this client_id.")
            }
            guard fields["redirect_uri"] == callbackURL else {
                throw LatchkeyError.invalidRequest("The redirect_uri is not the one registered with the sandbox.")
            }
            guard fields["response_type"] == "code" else { throw LatchkeyError.invalidRequest("The sandbox supports response_type=code only.") }
            guard let state = fields["state"], !state.isEmpty, state.count < 512 else { throw LatchkeyError.invalidRequest("A state is required.") }
            if let method = fields["code_challenge_method"], method != "S256" {
                throw LatchkeyError.invalidRequest("The sandbox accepts PKCE with S256 only.")
            }
            redirectURI = callbackURL
            self.state = state
            scopes = (fields["scope"] ?? "").split(separator: " ").map(String.init).filter { SandboxRegistration.scopes[$0] != nil }
            challenge = fields["code_challenge"]
        }
    }

    @Sendable func consent(_ request: Request, context: AppRequestContext) async throws -> Response {
        var fields: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where fields[String(name)] == nil { fields[String(name)] = String(value) }
        let query = try AuthorizationQuery(fields, callbackURL: callbackURL)
        let passOn = ["client_id", "redirect_uri", "response_type", "state", "scope", "code_challenge", "code_challenge_method"]
        var params = passOn.compactMap { name in fields[name].map { ["name": name, "value": $0] } }
        params.append(["name": "csrf_token", "value": csrf(context)])
        return HTMLPage.render(
            "sandbox-consent",
            title: "Sandbox: allow access?",
            context: [
                "client": "Latchkey",
                "account": "alex@sandbox.example",
                "scopes": query.scopes.compactMap { SandboxRegistration.scopes[$0] },
                "hasScopes": !query.scopes.isEmpty,
                "params": params,
            ]
        )
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        let query = try AuthorizationQuery(form.fields, callbackURL: callbackURL)
        var components = URLComponents(string: query.redirectURI)!
        if form["decision"] == "allow" {
            let account = Self.account(form.trimmed("account"))
            let code = SecureRandom.token()
            await state.issueCode(
                code,
                grant: .init(account: account, scopes: query.scopes, challenge: query.challenge, expiresAt: clock.now.addingTimeInterval(600))
            )
            components.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: query.state)]
        } else {
            components.queryItems = [
                URLQueryItem(name: "error", value: "access_denied"), URLQueryItem(name: "state", value: query.state),
            ]
        }
        return WebResponse.redirect(to: components.string ?? callbackURL)
    }

    private func csrf(_ context: AppRequestContext) -> String {
        String(sessions.browserBinding(context.browserID ?? "", purpose: "sandbox-csrf").prefix(43))
    }

    static func account(_ text: String) -> String {
        let cleaned = text.filter { $0.isLetter || $0.isNumber || "@._-+".contains($0) }.prefix(100)
        return cleaned.isEmpty ? "alex@sandbox.example" : String(cleaned)
    }

    // MARK: Tokens

    @Sendable func token(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        guard authenticates(request, form) else { return Self.oauthError("invalid_client", status: .unauthorized) }
        let now = clock.now
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], let grant = await state.redeem(code: code, now: now) else { return Self.oauthError("invalid_grant") }
            guard form["redirect_uri"] == callbackURL else { return Self.oauthError("invalid_grant") }
            if let challenge = grant.challenge {
                guard let verifier = form["code_verifier"], Self.s256(verifier) == challenge else { return Self.oauthError("invalid_grant") }
            }
            return try await issue(account: grant.account, scopes: grant.scopes)
        case "refresh_token":
            guard let refresh = form["refresh_token"], let grant = await state.rotate(refresh: refresh) else {
                return Self.oauthError("invalid_grant")
            }
            return try await issue(account: grant.account, scopes: grant.scopes)
        default:
            return Self.oauthError("unsupported_grant_type")
        }
    }

    private func issue(account: String, scopes: [String]) async throws -> Response {
        let access = "sbx_at_" + SecureRandom.token()
        let refresh = "sbx_rt_" + SecureRandom.token()
        await state.store(
            access: access,
            refresh: refresh,
            grant: .init(account: account, scopes: scopes, challenge: nil, expiresAt: clock.now.addingTimeInterval(3600))
        )
        let body: [String: Any] = [
            "access_token": access, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh, "scope": scopes.joined(separator: " "),
        ]
        return Self.json(body)
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request)
        guard authenticates(request, form) else { return Self.oauthError("invalid_client", status: .unauthorized) }
        if let token = form["token"] { await state.revoke(token) }
        return Response(status: .ok)
    }

    private func authenticates(_ request: Request, _ form: WebForm) -> Bool {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
        {
            let parts = decoded.split(separator: ":", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return parts.count == 2 && parts[0] == SandboxRegistration.clientID && ConstantTime.equals(parts[1], clientSecret)
        }
        return form["client_id"] == SandboxRegistration.clientID && ConstantTime.equals(form["client_secret"] ?? "", clientSecret)
    }

    // MARK: API

    @Sendable func userInfo(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let grant = await bearer(request) else { return Self.unauthorized() }
        let name = grant.account.split(separator: "@").first.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? grant.account
        return Self.json(["sub": "sbx-" + String(Self.s256(grant.account).prefix(12)), "email": grant.account, "name": name])
    }

    @Sendable func items(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let grant = await bearer(request) else { return Self.unauthorized() }
        guard grant.scopes.contains("items.read") else { return Self.oauthError("insufficient_scope", status: .forbidden) }
        // Paged as the catalog's `sandbox.items` dataset walks it: `limit` items from the position `cursor` names.
        let all: [[String: Any]] = [["id": 1, "title": "Try Latchkey", "done": true], ["id": 2, "title": "Connect a real service", "done": false]]
        let start = request.uri.queryParameters["cursor"].flatMap { Int(String($0)) }.map { min(max($0, 0), all.count) } ?? 0
        let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) }.map { max($0, 1) } ?? all.count
        let end = min(start + limit, all.count)
        var answer: [String: Any] = ["items": Array(all[start..<end])]
        if end < all.count { answer["next_cursor"] = String(end) }
        return Self.json(answer)
    }

    private func bearer(_ request: Request) async -> SandboxState.Grant? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return await state.grant(access: String(header.dropFirst(7)), now: clock.now)
    }

    // MARK: Helpers

    static func s256(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func oauthError(_ code: String, status: HTTPResponse.Status = .badRequest) -> Response {
        json(["error": code], status: status)
    }

    static func unauthorized() -> Response {
        var response = json(["error": "invalid_token"], status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        return response
    }
}

/// The sandbox's codes and tokens, in memory.
actor SandboxState {
    struct Grant: Sendable {
        var account: String
        var scopes: [String]
        var challenge: String?
        var expiresAt: Date
    }
    private var codes: [String: Grant] = [:]
    private var accessTokens: [String: Grant] = [:]
    private var refreshTokens: [String: Grant] = [:]

    func issueCode(_ code: String, grant: Grant) { codes[code] = grant }

    /// Codes work once and for ten minutes.
    func redeem(code: String, now: Date) -> Grant? {
        guard let grant = codes.removeValue(forKey: code), grant.expiresAt > now else { return nil }
        return grant
    }

    func store(access: String, refresh: String, grant: Grant) {
        accessTokens[access] = grant
        refreshTokens[refresh] = grant
    }

    /// A refresh token works once: the answer carries its successor.
    func rotate(refresh: String) -> Grant? { refreshTokens.removeValue(forKey: refresh) }

    func revoke(_ token: String) {
        accessTokens[token] = nil
        refreshTokens[token] = nil
    }

    func grant(access: String, now: Date) -> Grant? {
        guard let grant = accessTokens[access], grant.expiresAt > now else { return nil }
        return grant
    }
}
