import Foundation
import LatchkeyCore
import LatchkeyOAuthClient
import LatchkeyProviders

/// Who a social sign-in's provider says the person is, and whether it vouches for their email.
struct SocialProfile: Sendable {
    let transport: any HTTPTransport
    let oauth: OAuthClient

    struct Found: Sendable, Equatable {
        let id: String
        let email: String?
        /// The provider says the person proved they own `email` (`email_verified`, or GitHub's primary verified address).
        let emailVerified: Bool
        let name: String?
    }

    /// The catalog's identity spec (GitHub's `/user`, with the primary verified address of `/user/emails`), else the
    /// user-info endpoint (`sub` or `id`, `email`, `email_verified`, `name` or `preferred_username` or `login`).
    func read(provider: Provider, endpoints: OAuthEndpoints, tokens: TokenSet) async throws -> Found {
        if provider.identity == nil, let url = endpoints.userInfoURL {
            let document = try await json(url, provider: provider, tokens: tokens)
            guard let id = Self.scalar(document["sub"]) ?? Self.scalar(document["id"]), !id.isEmpty else {
                throw OAuthClientError.malformedResponse("the user-info answer has no sub")
            }
            let verified = document["email_verified"] as? Bool ?? ((document["email_verified"] as? String) == "true")
            return Found(
                id: id,
                email: document["email"] as? String,
                emailVerified: verified,
                name: document["name"] as? String ?? document["preferred_username"] as? String ?? document["login"] as? String
            )
        }
        guard let identity = try await oauth.fetchIdentity(provider: provider, endpoints: endpoints, tokens: tokens) else {
            throw OAuthClientError.malformedResponse("the provider does not say who the person is")
        }
        var email: String?
        if provider.id == "github", let url = endpoints.apiURL("/user/emails"),
            let list = try? await jsonList(url, provider: provider, tokens: tokens)
        {
            email = list.first { ($0["primary"] as? Bool) == true && ($0["verified"] as? Bool) == true }?["email"] as? String
        }
        return Found(id: identity.id, email: email ?? identity.email, emailVerified: email != nil, name: identity.name)
    }

    private func send(_ url: URL, provider: Provider, tokens: TokenSet) async throws -> Data {
        var headers: [(name: String, value: String)] = [
            (name: "Accept", value: "application/json"), (name: "Authorization", value: "Bearer \(tokens.accessToken)"),
        ]
        for (name, value) in (provider.requestHeaders ?? [:]).sorted(by: { $0.key < $1.key }) where name.lowercased() != "authorization" {
            headers.append((name: name, value: value))
        }
        let response = try await transport.send(OutboundRequest(method: "GET", url: url, headers: headers))
        guard (200...299).contains(response.status) else {
            throw OAuthClientError.unexpectedStatus(response.status, retryAfter: nil)
        }
        return response.body
    }

    private func json(_ url: URL, provider: Provider, tokens: TokenSet) async throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: try await send(url, provider: provider, tokens: tokens)) as? [String: Any] else {
            throw OAuthClientError.malformedResponse("the user-info answer is not a JSON object")
        }
        return object
    }

    private func jsonList(_ url: URL, provider: Provider, tokens: TokenSet) async throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: try await send(url, provider: provider, tokens: tokens)) as? [[String: Any]] ?? []
    }

    private static func scalar(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }
}
