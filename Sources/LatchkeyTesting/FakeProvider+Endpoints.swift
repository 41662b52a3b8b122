import Crypto
import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders

/// The failures the fake reports, named in each provider's own words by `code(_:)`.
enum FakeFailure {
    case grant, refreshGrant, client, redirect, unsupportedGrant
}

extension FakeProvider {
    // MARK: - Token endpoint

    func overriddenTokenResponse(_ request: OutboundRequest, _ override: Override) throws -> OutboundResponse? {
        switch override {
        case .status(let status, let body, let contentType):
            return OutboundResponse(status: status, headers: [(name: "Content-Type", value: contentType)], body: Data(body.utf8))
        case .html:
            let page = "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1></body></html>"
            return OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "text/html; charset=utf-8")], body: Data(page.utf8))
        case .oversized:
            let padding = String(repeating: "a", count: (1 << 20) + 16)
            let body = "{\"access_token\":\"fake-oversized\",\"token_type\":\"bearer\",\"padding\":\"\(padding)\"}"
            return OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "application/json")], body: Data(body.utf8))
        case .noAccessToken:
            var document: JSONValue = .object(["token_type": .string("bearer"), "scope": .string("")])
            if quirks.okFalseErrors { document = document.setting(.bool(true), at: "ok") }
            return Self.json(200, document)
        case .expiresIn(let raw):
            return tokenEndpoint(request, expiresIn: raw)
        case .unreachable:
            throw OutboundError.unreachable(host: request.url.host ?? "unknown host")
        case .formEncoded:
            var response = tokenEndpoint(request, expiresIn: nil)
            if let document = JSONValue.parse(response.body), case .object(let members) = document {
                let fields = members.sorted { $0.key < $1.key }.compactMap { key, value in value.scalarString.map { (key, $0) } }
                response.body = FormEncoding.encode(fields)
                response.headers = [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")]
            }
            return response
        case .error(let code):
            return errorResponse(code: code, status: 400)
        }
    }

    func tokenEndpoint(_ request: OutboundRequest, expiresIn rawExpiry: String?) -> OutboundResponse {
        let form = request.formFields
        guard authenticateClient(request, form: form) else { return failure(.client) }
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], let grant = codes.removeValue(forKey: code) else { return failure(.grant) }
            guard form["redirect_uri"] == grant.redirectURI else { return failure(.redirect) }
            if let challenge = grant.challenge {
                guard let verifier = form["code_verifier"], Self.challenge(verifier) == challenge else { return failure(.grant) }
            }
            exchangeCount += 1
            nextFamily += 1
            let session = Session(account: grant.account, scopes: grant.scopes, family: nextFamily - 1)
            return issue(
                session,
                request: request,
                newRefreshToken: provider.oauth?.issuesRefreshTokens ?? false,
                nonce: grant.nonce,
                rawExpiry: rawExpiry
            )
        case "refresh_token":
            guard let token = form["refresh_token"], let session = refreshTokens[token], !revokedFamilies.contains(session.family) else {
                return failure(.refreshGrant)
            }
            refreshCount += 1
            let rotates = provider.oauth?.refreshTokenRotates ?? false
            if rotates { refreshTokens[token] = nil }
            return issue(session, request: request, newRefreshToken: rotates, nonce: nil, rawExpiry: rawExpiry)
        case "client_credentials":
            nextFamily += 1
            let session = Session(account: Account(id: clientID), scopes: [], family: nextFamily - 1)
            return issue(session, request: request, newRefreshToken: false, nonce: nil, rawExpiry: rawExpiry)
        default:
            return failure(.unsupportedGrant)
        }
    }

    private func issue(_ session: Session, request: OutboundRequest, newRefreshToken: Bool, nonce: String?, rawExpiry: String?) -> OutboundResponse {
        let oauth = provider.oauth
        let accessToken = makeToken("at")
        accessTokens[accessToken] = session
        var token: [String: JSONValue] = ["access_token": .string(accessToken), "token_type": .string("bearer")]
        if !session.scopes.isEmpty { token["scope"] = .string(session.scopes.joined(separator: oauth?.scopeSeparator ?? " ")) }
        let field = oauth?.expiry.field ?? "expires_in"
        switch oauth?.expiry.format ?? .seconds {
        case .seconds: token[field] = .integer(Int64(lifetime))
        case .stringSeconds: token[field] = .string(String(lifetime))
        case .unixTime: token[field] = .integer(Int64(clock.now.timeIntervalSince1970) + Int64(lifetime))
        case .never: break
        }
        if rawExpiry != nil { token[field] = .string("__raw_expiry__") }
        if newRefreshToken {
            let refreshToken = makeToken("rt")
            refreshTokens[refreshToken] = session
            token["refresh_token"] = .string(refreshToken)
        }
        var document: JSONValue = .object(token)
        if let path = oauth?.tokenPath {
            // The token asked for sits under tokenPath; the top level carries another one (Slack's bot token).
            document = JSONValue.object(["access_token": .string("fake-bot-token"), "token_type": .string("bot")]).setting(.object(token), at: path)
        }
        if quirks.okFalseErrors { document = document.setting(.bool(true), at: "ok") }
        if session.scopes.contains("openid") { document = document.setting(.string(idToken(for: session, nonce: nonce)), at: "id_token") }
        if quirks.formEncodedUnlessJSONAccepted, request.header("Accept")?.contains("application/json") != true {
            let fields = token.sorted { $0.key < $1.key }.compactMap { key, value in value.scalarString.map { (key, $0) } }
            return OutboundResponse(
                status: 200,
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                body: FormEncoding.encode(fields)
            )
        }
        var text = document.jsonText
        if let rawExpiry { text = text.replacingOccurrences(of: "\"__raw_expiry__\"", with: rawExpiry) }
        return OutboundResponse(status: 200, headers: [(name: "Content-Type", value: "application/json")], body: Data(text.utf8))
    }

    private func idToken(for session: Session, nonce: String?) -> String {
        var claims: [String: JSONValue] = [
            "iss": .string(issuer ?? endpoints.issuer ?? "https://\(endpoints.tokenURL.host ?? "fake")"),
            "sub": .string(session.account.id),
            "aud": .string(clientID),
            "iat": .integer(Int64(clock.now.timeIntervalSince1970)),
            "exp": .integer(Int64(clock.now.timeIntervalSince1970) + Int64(lifetime)),
        ]
        if let nonce { claims["nonce"] = .string(nonce) }
        if let email = session.account.email { claims["email"] = .string(email) }
        if let name = session.account.name { claims["name"] = .string(name) }
        let header = Data("{\"alg\":\"none\",\"typ\":\"JWT\"}".utf8).base64URLEncodedString()
        return "\(header).\(Data(JSONValue.object(claims).jsonText.utf8).base64URLEncodedString()).fake-signature"
    }

    // MARK: - Revocation, identity, probe

    func revocationEndpoint(_ request: OutboundRequest) -> OutboundResponse {
        switch provider.oauth?.revocationStyle ?? .rfc7009 {
        case .rfc7009:
            let form = request.formFields
            guard authenticateClient(request, form: form) else { return failure(.client) }
            if let token = form["token"] { revoke(token) }
            return OutboundResponse(status: 200)
        case .bearer:
            guard let token = bearerToken(request), accessTokens[token] != nil || refreshTokens[token] != nil else {
                return quirks.okFalseErrors
                    ? Self.json(200, .object(["ok": .bool(false), "error": .string("invalid_auth")])) : Self.json(401, .object([:]))
            }
            revoke(token)
            return quirks.okFalseErrors ? Self.json(200, .object(["ok": .bool(true), "revoked": .bool(true)])) : Self.json(200, .null)
        case .deleteGrant:
            guard request.method == "DELETE", basicCredentials(request).map({ $0 == (clientID, clientSecret ?? "") }) == true else {
                return Self.json(404, .object(["message": .string("Not Found")]))
            }
            guard let body = request.body, let token = JSONValue.parse(body)?["access_token"]?.scalarString, accessTokens[token] != nil else {
                return Self.json(422, .object(["message": .string("Validation Failed")]))
            }
            revoke(token)
            return OutboundResponse(status: 204)
        }
    }

    func identityEndpoint(_ request: OutboundRequest, spec: IdentitySpec?) -> OutboundResponse {
        guard let session = authorizedSession(request) else {
            if quirks.okFalseErrors { return Self.json(200, .object(["ok": .bool(false), "error": .string("invalid_auth")])) }
            return Self.json(401, .object(["error": .string("invalid_token")]))
        }
        let account = session.account
        var document: JSONValue = .object([:])
        if let spec {
            let numeric = !account.id.isEmpty && account.id.allSatisfy(\.isASCII) && Int64(account.id) != nil
            document = document.setting(numeric ? .integer(Int64(account.id)!) : .string(account.id), at: spec.idField)
            if let field = spec.emailField { document = document.setting(account.email.map { .string($0) } ?? .null, at: field) }
            if let field = spec.nameField { document = document.setting(account.name.map { .string($0) } ?? .null, at: field) }
        } else {
            document = .object([
                "sub": .string(account.id), "email": account.email.map { .string($0) } ?? .null,
                "name": account.name.map { .string($0) } ?? .null,
            ])
        }
        if quirks.okFalseErrors { document = document.setting(.bool(true), at: "ok") }
        return Self.json(200, document)
    }

    func probeEndpoint(_ request: OutboundRequest, probe: Probe) -> OutboundResponse {
        let accepted: Bool
        if let settings = provider.apiKey {
            switch settings.scheme {
            case .header:
                let expected = (settings.format ?? "Bearer {apiKey}").replacingOccurrences(of: "{apiKey}", with: apiKey)
                accepted = request.header(settings.headerName ?? "Authorization") == expected
            case .basic:
                accepted = basicCredentials(request).map { $0 == (username, apiKey) } ?? false
            }
        } else {
            accepted = authorizedSession(request) != nil
        }
        return accepted ? Self.json(probe.expectStatus, .object([:])) : Self.json(401, .object(["error": .string("unauthorized")]))
    }

    // MARK: - Helpers

    private func revoke(_ token: String) {
        guard let session = accessTokens[token] ?? refreshTokens[token] else { return }
        revokedTokens.append(token)
        revokedFamilies.insert(session.family)
        accessTokens = accessTokens.filter { $0.value.family != session.family }
    }

    func authorizedSession(_ request: OutboundRequest) -> Session? {
        let header = provider.oauth?.accessTokenHeader ?? "Authorization"
        let format = provider.oauth?.accessTokenFormat ?? "Bearer {accessToken}"
        guard let value = request.header(header), let range = format.range(of: "{accessToken}") else { return nil }
        let prefix = String(format[..<range.lowerBound])
        let suffix = String(format[range.upperBound...])
        guard value.hasPrefix(prefix), value.hasSuffix(suffix), value.count >= prefix.count + suffix.count else { return nil }
        let token = String(value.dropFirst(prefix.count).dropLast(suffix.count))
        guard let session = accessTokens[token], !revokedFamilies.contains(session.family) else { return nil }
        return session
    }

    private func bearerToken(_ request: OutboundRequest) -> String? {
        guard let value = request.header("Authorization"), value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst("Bearer ".count))
    }

    /// The form-decoded pair of an HTTP basic `Authorization` header (RFC 6749 §2.3.1).
    private func basicCredentials(_ request: OutboundRequest) -> (String, String)? {
        guard let value = request.header("Authorization"), value.hasPrefix("Basic "),
            let data = Data(base64Encoded: String(value.dropFirst("Basic ".count))), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let id = text[..<colon]
        let secret = text[text.index(after: colon)...]
        return (FormEncoding.decode(id) ?? String(id), FormEncoding.decode(secret) ?? String(secret))
    }

    /// Client authentication in the provider's `clientAuth` style; a fake without a secret takes a public client.
    private func authenticateClient(_ request: OutboundRequest, form: [String: String]) -> Bool {
        guard let clientSecret else { return form["client_id"] == clientID && form["client_secret"] == nil }
        switch provider.oauth?.clientAuth ?? .clientSecretBasic {
        case .clientSecretBasic:
            guard let pair = basicCredentials(request) else { return false }
            return pair == (clientID, clientSecret) && form["client_secret"] == nil
        case .clientSecretPost:
            return form["client_id"] == clientID && form["client_secret"] == clientSecret && request.header("Authorization") == nil
        }
    }

    private func failure(_ failure: FakeFailure) -> OutboundResponse {
        errorResponse(code: code(failure), status: failure == .client ? 401 : 400)
    }

    private func code(_ failure: FakeFailure) -> String {
        if quirks.okFalseErrors {
            return switch failure {
            case .grant: "invalid_code"
            case .refreshGrant: "invalid_refresh_token"
            case .client: "bad_client_secret"
            case .redirect: "bad_redirect_uri"
            case .unsupportedGrant: "invalid_grant_type"
            }
        }
        if quirks.errorsWithHTTP200 {
            return switch failure {
            case .grant, .refreshGrant: "bad_verification_code"
            case .client: "incorrect_client_credentials"
            case .redirect: "redirect_uri_mismatch"
            case .unsupportedGrant: "unsupported_grant_type"
            }
        }
        return switch failure {
        case .grant, .refreshGrant, .redirect: "invalid_grant"
        case .client: "invalid_client"
        case .unsupportedGrant: "unsupported_grant_type"
        }
    }

    private func errorResponse(code: String, status: Int) -> OutboundResponse {
        if quirks.okFalseErrors { return Self.json(200, .object(["ok": .bool(false), "error": .string(code)])) }
        let body = JSONValue.object(["error": .string(code), "error_description": .string("The fake provider refused the request")])
        return Self.json(quirks.errorsWithHTTP200 ? 200 : status, body)
    }

    func makeToken(_ kind: String) -> String {
        counter += 1
        return "fake-\(kind)-\(counter)-\(SecureRandom.token(byteCount: 12))"
    }

    static func challenge(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }

    static func json(_ status: Int, _ document: JSONValue) -> OutboundResponse {
        OutboundResponse(status: status, headers: [(name: "Content-Type", value: "application/json")], body: Data(document.jsonText.utf8))
    }

    static func sameEndpoint(_ lhs: URL, _ rhs: URL) -> Bool {
        lhs.scheme?.lowercased() == rhs.scheme?.lowercased() && lhs.host?.lowercased() == rhs.host?.lowercased() && lhs.port == rhs.port
            && lhs.path == rhs.path
    }

    static func query(of url: URL) -> [String: String] {
        var fields: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] where fields[item.name] == nil {
            fields[item.name] = item.value ?? ""
        }
        return fields
    }
}

extension JSONValue {
    /// A copy with `value` set at a dotted path, creating objects on the way.
    func setting(_ value: JSONValue, at dottedPath: String) -> JSONValue {
        var components = dottedPath.split(separator: ".").map(String.init)
        guard !components.isEmpty else { return value }
        let first = components.removeFirst()
        var members: [String: JSONValue] = [:]
        if case .object(let existing) = self { members = existing }
        members[first] = components.isEmpty ? value : (members[first] ?? .object([:])).setting(value, at: components.joined(separator: "."))
        return .object(members)
    }
}
