import Foundation
import LatchkeyProviders

/// Reads a token endpoint's answer the way the catalog entry describes it.
struct TokenResponseParser {
    static let maxBodyBytes = 1 << 20

    let oauth: OAuthSettings?
    let now: Date
    /// Values Latchkey sent (code, refresh token, secret, verifier) that must never come back inside an error; values
    /// shorter than 8 characters are not real secrets and are left alone.
    let secrets: [String]

    /// The answer's body as JSON: JSON as it is, a form body (by content type) as an object of strings.
    /// Nil when it is neither.
    static func document(_ response: OutboundResponse) -> JSONValue? {
        let contentType = response.header("Content-Type")?.lowercased() ?? ""
        if contentType.contains("application/x-www-form-urlencoded") {
            guard let fields = FormEncoding.decodeFields(response.body) else { return nil }
            return .object(fields.mapValues { .string($0) })
        }
        guard let value = JSONValue.parse(response.body), case .object = value else { return nil }
        return value
    }

    /// The provider error in a body (`error`, or `ok: false`), when there is one.
    func providerError(in document: JSONValue, status: Int) -> OAuthClientError? {
        let code: String?
        switch document["error"] {
        case .string(let value): code = value
        case .object(let inner): code = inner["code"]?.scalarString ?? inner["type"]?.scalarString ?? "error"
        case .some(.null), nil: code = document["ok"] == .bool(false) ? "error" : nil
        case .some(let other): code = other.scalarString ?? "error"
        }
        guard let code else { return nil }
        let description = document["error_description"]?.scalarString
        switch code {
        case "invalid_grant": return OAuthClientError(.invalidGrant, status: status)
        case "invalid_client": return OAuthClientError(.invalidClient, status: status)
        default: return .providerError(code: redact(code), description: description.map(redact), status: status)
        }
    }

    private func redact(_ text: String) -> String {
        secrets.filter { $0.count >= 8 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
    }

    /// The tokens in a token answer, or why there are none.
    func parse(_ response: OutboundResponse) throws(OAuthClientError) -> TokenSet {
        let status = response.status
        guard response.body.count <= Self.maxBodyBytes else { throw .malformedResponse("the answer is larger than 1 MiB", status: status) }
        let retryAfter = response.header("Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard let document = Self.document(response) else {
            if (200...299).contains(status) { throw .malformedResponse("the answer is not JSON", status: status) }
            throw .unexpectedStatus(status, retryAfter: retryAfter)
        }
        if var error = providerError(in: document, status: status) {
            error.retryAfter = retryAfter
            throw error
        }
        guard (200...299).contains(status) else { throw .unexpectedStatus(status, retryAfter: retryAfter) }

        var tokenObject = document
        if let path = oauth?.tokenPath {
            guard let nested = document.value(at: path), case .object = nested else { throw .noAccessToken }
            tokenObject = nested
        }
        guard case .string(let accessToken)? = tokenObject["access_token"], !accessToken.isEmpty else { throw .noAccessToken }
        let refreshToken = tokenObject["refresh_token"]?.nonEmptyString
        return TokenSet(
            accessToken: accessToken,
            refreshToken: refreshToken,
            tokenType: tokenObject["token_type"]?.nonEmptyString,
            expiresAt: expiry(tokenObject, document),
            scopes: scopes(tokenObject["scope"]),
            idToken: (tokenObject["id_token"] ?? document["id_token"])?.nonEmptyString,
            raw: Data(document.jsonText.utf8)
        )
    }

    /// When the access token expires. Lenient like a real client: the number may come as a string whatever the
    /// format says; a missing, zero, negative or unreadable lifetime means "unknown" (nil), so the token is used until
    /// the provider refuses it rather than being thrown away at once. Lifetimes beyond ten years count as unknown too.
    /// With the format `never`, an `expires_in` the provider sends anyway (GitHub Apps) is honoured.
    private func expiry(_ tokenObject: JSONValue, _ document: JSONValue) -> Date? {
        let format = oauth?.expiry.format ?? .seconds
        let field = oauth?.expiry.field ?? "expires_in"
        let maxLifetime: Double = 10 * 365 * 24 * 3600
        switch format {
        case .seconds, .stringSeconds, .never:
            guard let seconds = (tokenObject[field] ?? tokenObject["expires_in"])?.numericValue, seconds > 0, seconds <= maxLifetime else {
                return nil
            }
            return now.addingTimeInterval(seconds)
        case .unixTime:
            guard let instant = tokenObject[field]?.numericValue, instant > 0, instant - now.timeIntervalSince1970 <= maxLifetime else {
                return nil
            }
            return Date(timeIntervalSince1970: instant)
        }
    }

    private func scopes(_ value: JSONValue?) -> [String]? {
        switch value {
        case .string(let text):
            var separators: Set<Character> = [" ", ","]
            if let separator = oauth?.scopeSeparator.first { separators.insert(separator) }
            return text.split(whereSeparator: { separators.contains($0) }).map(String.init)
        case .array(let items):
            return items.compactMap(\.scalarString)
        default:
            return nil
        }
    }
}

extension JSONValue {
    var nonEmptyString: String? {
        if case .string(let value) = self, !value.isEmpty { return value }
        return nil
    }
}
