import Foundation

/// Why an OAuth call to a provider failed. No case carries a token, code, secret or full URL.
public struct OAuthClientError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong. Its description leaves the provider's own words out, and unknown error codes too.
    public enum Kind: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
        /// An RFC 6749 `error` from the provider (also HTTP 200 bodies with `ok: false`, as Slack sends).
        /// The description is the provider's own words with any secret Latchkey sent blanked out; it is never shown.
        case providerError(code: String, description: String?)
        /// The code or refresh token was refused (`invalid_grant`): the person has to connect again.
        case invalidGrant
        /// The provider does not accept the client id or secret (`invalid_client`).
        case invalidClient
        /// The answer had no access token.
        case noAccessToken
        /// The answer could not be read: HTML, not JSON, wrong types, too large.
        case malformedResponse(reason: String)
        /// The provider answered with a status that carries no readable error.
        case unexpectedStatus(Int)
        /// The request did not get an answer.
        case transport(OutboundError)
        /// A setting needed to reach the provider is missing or not acceptable (the setting's name).
        case missingSetting(String)
        /// The callback query is not one a provider sends (what is missing).
        case malformedCallback(String)
        /// The id_token does not match what was expected (the claim at fault: `nonce`, `iss`, `aud`).
        case idTokenMismatch(String)
        /// The `iss` on the callback is not the provider's issuer (RFC 9207).
        case issuerMismatch

        public var description: String {
            switch self {
            case .providerError(let code, _): "providerError(\(OAuthClientError.safeCode(code)))"
            case .invalidGrant: "invalidGrant"
            case .invalidClient: "invalidClient"
            case .noAccessToken: "noAccessToken"
            case .malformedResponse(let reason): "malformedResponse(\(reason))"
            case .unexpectedStatus(let status): "unexpectedStatus(\(status))"
            case .transport(let error): "transport(\(error))"
            case .missingSetting(let name): "missingSetting(\(OAuthClientError.safeName(name)))"
            case .malformedCallback(let reason): "malformedCallback(\(reason))"
            case .idTokenMismatch(let claim): "idTokenMismatch(\(OAuthClientError.safeName(claim)))"
            case .issuerMismatch: "issuerMismatch"
            }
        }

        public var debugDescription: String { description }
    }

    /// What the refresh logic should do about the error.
    public enum Classification: Sendable, Equatable {
        /// Try again later (network, 5xx, 429), after `retryAfter` seconds when the provider said so.
        case transient(retryAfter: Int?)
        /// The grant is gone: the person has to connect again.
        case reauthRequired(reason: String)
        /// The configuration is wrong: an admin has to fix it. Either the provider refused the OAuth client, or
        /// Latchkey's own outbound policy refused to call the endpoint (``OAuthClientError/isPolicyRefusal``); neither
        /// is a provider failure, and retrying does not help.
        case clientMisconfigured
        /// The provider answered something unusable; retrying will not help.
        case badResponse
    }

    public var kind: Kind
    /// The HTTP status of the answer, when there was one.
    public var status: Int?
    /// Seconds to wait, from a `Retry-After` header.
    public var retryAfter: Int?

    public init(_ kind: Kind, status: Int? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.status = status
        self.retryAfter = retryAfter
    }

    public static func providerError(code: String, description: String?, status: Int? = nil) -> OAuthClientError {
        OAuthClientError(.providerError(code: code, description: description), status: status)
    }
    public static func malformedResponse(_ reason: String, status: Int? = nil) -> OAuthClientError {
        OAuthClientError(.malformedResponse(reason: reason), status: status)
    }
    public static func unexpectedStatus(_ status: Int, retryAfter: Int? = nil) -> OAuthClientError {
        OAuthClientError(.unexpectedStatus(status), status: status, retryAfter: retryAfter)
    }
    public static func transport(_ error: OutboundError) -> OAuthClientError { OAuthClientError(.transport(error)) }
    public static func missingSetting(_ name: String) -> OAuthClientError { OAuthClientError(.missingSetting(name)) }
    public static func malformedCallback(_ reason: String) -> OAuthClientError { OAuthClientError(.malformedCallback(reason)) }
    public static func idTokenMismatch(_ claim: String) -> OAuthClientError { OAuthClientError(.idTokenMismatch(claim)) }
    public static let invalidGrant = OAuthClientError(.invalidGrant)
    public static let invalidClient = OAuthClientError(.invalidClient)
    public static let noAccessToken = OAuthClientError(.noAccessToken)
    public static let issuerMismatch = OAuthClientError(.issuerMismatch)

    /// Error codes that mean the grant is gone, beyond RFC 6749's `invalid_grant` (Slack's names among them).
    static let reauthCodes: Set = [
        "invalid_grant", "invalid_refresh_token", "invalid_code", "code_already_used", "token_revoked", "token_expired", "account_inactive",
        "access_denied", "invalid_token", "bad_verification_code", "bad_refresh_token", "invalid_auth", "not_authed",
    ]
    /// Error codes that mean the client configuration is wrong.
    static let clientCodes: Set = [
        "invalid_client", "unauthorized_client", "invalid_client_id", "bad_client_secret", "bad_redirect_uri", "invalid_redirect_uri",
        "redirect_uri_mismatch", "incorrect_client_credentials",
    ]
    /// Error codes that mean the provider is having a bad moment.
    static let transientCodes: Set = ["server_error", "temporarily_unavailable", "ratelimited", "rate_limited", "slow_down"]

    public var classification: Classification {
        switch kind {
        case .transport(let error):
            switch error {
            case .unreachable, .timedOut: return .transient(retryAfter: nil)
            case .responseTooLarge: return .badResponse
            case .blockedAddress, .unsupportedURL: return .clientMisconfigured
            }
        case .unexpectedStatus(let status):
            if status == 429 || (500...599).contains(status) { return .transient(retryAfter: retryAfter) }
            if (400...499).contains(status) { return .reauthRequired(reason: "the provider refused the request (HTTP \(status))") }
            return .badResponse
        case .invalidGrant:
            return .reauthRequired(reason: "invalid_grant")
        case .invalidClient:
            return .clientMisconfigured
        case .providerError(let code, _):
            if Self.reauthCodes.contains(code) { return .reauthRequired(reason: Self.safeCode(code)) }
            if Self.clientCodes.contains(code) { return .clientMisconfigured }
            if Self.transientCodes.contains(code) { return .transient(retryAfter: retryAfter) }
            if let status, status == 429 || (500...599).contains(status) { return .transient(retryAfter: retryAfter) }
            return .badResponse
        case .missingSetting:
            return .clientMisconfigured
        case .noAccessToken, .malformedResponse, .malformedCallback, .idTokenMismatch, .issuerMismatch:
            return .badResponse
        }
    }

    /// Whether Latchkey itself refused to make the call (the outbound policy, or a URL it does not call): nothing
    /// reached the provider, so this is neither a provider failure nor worth a retry. The reason a log line should
    /// carry is ``policyReason``.
    public var isPolicyRefusal: Bool { policyReason != nil }

    /// For a refusal by Latchkey itself, a short reason for logs and audit details (`blocked_address`,
    /// `unsupported_url`); nil otherwise.
    public var policyReason: String? {
        switch kind {
        case .transport(.blockedAddress): "blocked_address"
        case .transport(.unsupportedURL): "unsupported_url"
        default: nil
        }
    }

    /// For logs: what happened, without secrets, provider descriptions or URLs.
    public var description: String {
        switch kind {
        case .providerError(let code, _): "provider error \(Self.safeCode(code))" + (status.map { " (HTTP \($0))" } ?? "")
        case .invalidGrant: "invalid_grant: the code or refresh token was refused"
        case .invalidClient: "invalid_client: the client id or secret was refused"
        case .noAccessToken: "the token answer has no access token"
        case .malformedResponse(let reason): "malformed answer: \(reason)" + (status.map { " (HTTP \($0))" } ?? "")
        case .unexpectedStatus(let status): "unexpected HTTP status \(status)"
        case .transport(let error): "transport: \(Self.describe(error))"
        case .missingSetting(let name): "missing or unacceptable setting \(Self.safeName(name))"
        case .malformedCallback(let reason): "malformed callback: \(reason)"
        case .idTokenMismatch(let claim): "id_token \(Self.safeName(claim)) does not match"
        case .issuerMismatch: "the callback's iss is not the provider's issuer"
        }
    }

    public var debugDescription: String { "OAuthClientError(\(description))" }

    /// Plain words for a person, naming the provider; never a token, code, secret or URL.
    public func message(providerName: String) -> String {
        switch classification {
        case .transient(let retryAfter):
            if case .transport(.timedOut) = kind { return "\(providerName) did not answer in time. Please try again." }
            if case .transport = kind { return "Cannot reach \(providerName). Please try again." }
            if let retryAfter { return "\(providerName) is busy right now. Try again in \(Self.wait(retryAfter))." }
            return "\(providerName) is failing right now. Please try again in a moment."
        case .reauthRequired:
            return "\(providerName) no longer accepts this connection. Please connect your \(providerName) account again."
        case .clientMisconfigured:
            if case .transport(let error) = kind, let message = error.policyMessage { return message }
            if case .transport(.unsupportedURL(let reason)) = kind {
                return "Latchkey did not call \(providerName): the configured URL is not one it calls (\(reason)). An administrator has to fix "
                    + "the integration's settings."
            }
            if case .missingSetting(let name) = kind {
                return "The \(providerName) integration is missing the setting \"\(Self.safeName(name))\". An administrator has to fix it."
            }
            return "\(providerName) does not accept Latchkey's OAuth client settings. An administrator has to check the client id and secret."
        case .badResponse:
            switch kind {
            case .idTokenMismatch, .issuerMismatch:
                return "The answer from \(providerName) did not match this sign-in. Please start again."
            case .malformedCallback:
                return "The answer from \(providerName) was incomplete. Please start again."
            case .providerError(let code, _):
                return "\(providerName) refused the request (\(Self.safeCode(code))). Please try again or ask an administrator."
            default:
                return "\(providerName) sent an answer Latchkey cannot use. Please try again later."
            }
        }
    }

    /// Error codes of RFC 6749, RFC 6750, RFC 7009 and the providers in the catalog, which may be shown as they are.
    static let knownCodes: Set<String> = reauthCodes.union(clientCodes).union(transientCodes).union([
        "invalid_request", "unsupported_grant_type", "invalid_scope", "unsupported_response_type", "insufficient_scope", "unsupported_token_type",
        "missing_scope", "invalid_grant_type", "unverified_user_email", "application_suspended", "invalid_arg_name", "error",
    ])

    /// An error code when it is a known one; otherwise a placeholder, since an unknown code could echo a secret.
    static func safeCode(_ code: String) -> String {
        knownCodes.contains(code) ? code : "unrecognised error"
    }

    /// A setting or claim name Latchkey itself chose (short identifiers only).
    static func safeName(_ name: String) -> String {
        let plain = name.count <= 40 && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
        return plain ? name : "setting"
    }

    private static func describe(_ error: OutboundError) -> String {
        switch error {
        case .unreachable(let host): "\(host) unreachable"
        case .timedOut(let host): "\(host) timed out"
        case .responseTooLarge(let host, let limit): "answer from \(host) larger than \(limit) bytes"
        case .blockedAddress(let host, let reason): "outbound policy refused \(host): \(reason)"
        case .unsupportedURL(let reason): "unsupported URL: \(reason)"
        }
    }

    private static func wait(_ seconds: Int) -> String {
        if seconds < 90 { return seconds <= 1 ? "a second" : "\(seconds) seconds" }
        let minutes = (seconds + 59) / 60
        return minutes == 1 ? "a minute" : "\(minutes) minutes"
    }
}
