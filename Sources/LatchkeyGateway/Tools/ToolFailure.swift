public import Foundation
public import LatchkeyCore
import LatchkeyOAuthClient
public import LatchkeyProviders

/// What a tool's caller is told when the provider did not do what was asked (DESIGN §6): the provider's status and
/// its own short explanation turned into an error that says what happened and what to do. Pure: no I/O.
public struct ToolFailure: Sendable {
    /// The service's name as people know it.
    public var name: String
    public var provider: Provider
    public var credential: Credential
    /// The caller's app; nil for the console app (an admin key, a signed-in person).
    public var appID: String?
    /// The server's public URL, no trailing slash.
    public var publicURL: String

    public init(name: String, provider: Provider, credential: Credential, appID: String?, publicURL: String) {
        self.name = name
        self.provider = provider
        self.credential = credential
        self.appID = appID
        self.publicURL = publicURL
    }

    /// Where the person connects the credential again, asking for `scopes` too: see
    /// ``ToolScopes/reconnectURL(for:appID:publicURL:scopes:)``.
    func reconnectURL(asking scopes: [String] = []) -> String {
        ToolScopes.reconnectURL(for: credential, appID: appID, publicURL: publicURL, scopes: scopes)
    }

    /// The error for a provider's answer that is not a success; nil when it is one (a 2xx that does not say it
    /// failed, as Slack's `{"ok": false}` does).
    public func error(status: Int, headers: [(name: String, value: String)], body: Data, tool: Tool) -> LatchkeyError? {
        let document = JSONValue.parse(body)
        if (200..<300).contains(status) {
            // Slack answers 200 with `ok: false` and an error code.
            guard case .bool(false)? = document?["ok"], let code = document?["error"]?.scalarString else { return nil }
            return slackError(code, needed: document?["needed"]?.scalarString, tool: tool)
        }
        let said = Self.message(of: document).map { " \(name) said: \($0)" } ?? ""
        switch status {
        case 401:
            return LatchkeyError(
                .needsReauth,
                "\(name) no longer accepts the stored credential (HTTP 401). Please reconnect: \(reconnectURL())",
                action: .init(type: "reconnect", url: reconnectURL())
            )
        case 403:
            if let accepted = Self.header("X-Accepted-OAuth-Scopes", in: headers) {
                let needed = Self.list(accepted)
                let granted = Set(Self.list(Self.header("X-OAuth-Scopes", in: headers) ?? ""))
                if !needed.isEmpty, granted.isDisjoint(with: needed) { return insufficientScope(needed) }
            }
            return LatchkeyError(.forbidden, "\(name) refused this call (HTTP 403).\(said)")
        case 404:
            return LatchkeyError(.notFound, "\(name) found nothing at this address (HTTP 404): check the input.\(said)")
        case 409:
            return LatchkeyError(.conflict, "\(name) refused this call as a conflict (HTTP 409).\(said)")
        case 429:
            let retryAfter = retryAfter(headers)
            let wait = retryAfter.map { " Try again in \($0) seconds." } ?? " Try again later."
            return LatchkeyError(.rateLimited, "\(name) rate limit reached.\(wait)", action: .init(type: "retry"), retryAfter: retryAfter ?? 60)
        case 500...:
            return LatchkeyError(
                .providerUnreachable,
                "\(name) failed to answer (HTTP \(status)). This is usually temporary: try again in a moment.",
                action: .init(type: "retry"),
                retryAfter: 5
            )
        case ..<400:
            return LatchkeyError(.providerUnreachable, "\(name) answered with HTTP \(status) instead of a result; the tool cannot return it.")
        default:
            return LatchkeyError(.invalidRequest, "\(name) refused this call (HTTP \(status)): check the input.\(said)")
        }
    }

    /// `insufficient_scope` for permissions of which none is granted.
    public func insufficientScope(_ needed: [String]) -> LatchkeyError {
        let named = needed.map { scope in provider.oauth?.scopes[scope].map { "\(scope) (\($0))" } ?? scope }
        let granted = credential.scopes.isEmpty ? "" : " The connection allows: \(credential.scopes.joined(separator: ", "))."
        let reconnectURL = reconnectURL(asking: needed)
        return LatchkeyError(
            .insufficientScope,
            "This tool needs additional \(name) permissions: \(named.joined(separator: " or ")).\(granted) "
                + "Reconnect \(name) and allow them: \(reconnectURL)",
            action: .init(type: "reconnect", url: reconnectURL)
        )
    }

    private func slackError(_ code: String, needed: String?, tool: Tool) -> LatchkeyError {
        switch code {
        case "missing_scope":
            let scopes = needed.map(Self.list) ?? tool.scopes
            return insufficientScope(scopes.isEmpty ? tool.scopes : scopes)
        case "not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive":
            return LatchkeyError(
                .needsReauth,
                "\(name) no longer accepts the stored credential (\(code)). Please reconnect: \(reconnectURL())",
                action: .init(type: "reconnect", url: reconnectURL())
            )
        case "ratelimited":
            return LatchkeyError(.rateLimited, "\(name) rate limit reached. Try again in a minute.", action: .init(type: "retry"), retryAfter: 60)
        default:
            return LatchkeyError(.invalidRequest, "\(name) refused this call: \(Self.trimmed(code)). Check the input.")
        }
    }

    /// Seconds from the provider's retry header (the catalog names it; `Retry-After` otherwise).
    func retryAfter(_ headers: [(name: String, value: String)]) -> Int? {
        let name = provider.rateLimitHeaders?.retryAfter ?? "Retry-After"
        guard let text = Self.header(name, in: headers), let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds >= 0
        else { return nil }
        return max(1, Int(seconds.rounded(.up)))
    }

    static func header(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// `repo, read:org` or `a b` → its items.
    static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { !$0.isEmpty }
    }

    /// The provider's own explanation in its usual places (`message`, `error.message`, `error_description`,
    /// `errors[0].message`, `detail`, `error`), on one line and short.
    static func message(of document: JSONValue?) -> String? {
        guard let document else { return nil }
        let candidates = [
            document["message"], document["error"]?["message"], document["error_description"], document.value(at: "errors.0.message"),
            document["detail"], document["error"],
        ]
        for candidate in candidates {
            if let text = candidate?.scalarString.map(trimmed), !text.isEmpty { return text }
        }
        return nil
    }

    /// One line of at most 200 characters, control characters dropped, and anything that looks like a token or key
    /// (a run of 24 or more letters, digits, `-`, `_` or `.` with both letters and digits) replaced by `[redacted]`:
    /// a provider that echoes the credential in its message does not get it passed on.
    static func trimmed(_ text: String) -> String {
        let line = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
            .trimmingCharacters(in: .whitespaces)
        let redacted = redactingTokens(line)
        return redacted.count > 200 ? String(redacted.prefix(199)) + "…" : redacted
    }

    static func redactingTokens(_ text: String) -> String {
        func isTokenCharacter(_ character: Character) -> Bool {
            character.isASCII && (character.isLetter || character.isNumber || "-_.".contains(character))
        }
        var result = ""
        var run = ""
        func flush() {
            let looksLikeToken = run.count >= 24 && run.contains(where: \.isLetter) && run.contains(where: \.isNumber)
            result += looksLikeToken ? "[redacted]" : run
            run = ""
        }
        for character in text {
            if isTokenCharacter(character) {
                run.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}
