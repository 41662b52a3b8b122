import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Cookie names and attributes of the web console.
enum WebCookies {
    static let session = "latchkey_session"
    static let browser = "latchkey_browser"

    static func session(_ value: String, secure: Bool) -> Cookie {
        Cookie(name: session, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    static func clearedSession(secure: Bool) -> Cookie {
        Cookie(name: session, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    static func browser(_ value: String, secure: Bool) -> Cookie {
        Cookie(name: browser, value: value, maxAge: 400 * 24 * 3600, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The UTF-8 text a cookie carries in URL-safe base64 (as `ConnectReturn` and `PageFlash` set theirs); nil when
    /// the cookie is missing, longer than `maximumLength` characters or not such text.
    static func text(_ request: Request, _ name: String, maximumLength: Int) -> String? {
        guard var text = request.cookies[name]?.value, !text.isEmpty, text.utf8.count <= maximumLength else { return nil }
        text = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// A browser id is 43 base64url characters; anything else is ignored and replaced.
    static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == 43 && value.utf8.allSatisfy { $0.isBase64URL }
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) || self == 0x2D || self == 0x5F
    }
}

/// Reads the console's cookies: the browser id (issued when missing) and the signed-in session, if any.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sessions: WebSessions
    let secureCookies: Bool

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response
    {
        var context = context
        context.requestPath = request.uri.path
        context.requestMethod = request.method
        var newBrowserID: String?
        if let value = request.cookies[WebCookies.browser]?.value, WebCookies.isWellFormed(value) {
            context.browserID = value
        } else {
            let value = SecureRandom.token()
            context.browserID = value
            newBrowserID = value
        }
        var clearSession = false
        if let token = request.cookies[WebCookies.session]?.value, !token.isEmpty {
            if let session = try await sessions.find(token) {
                context.webSession = session
                context.sessionToken = token
            } else {
                clearSession = true
            }
        }
        var response = try await next(request, context)
        PageFlash.settle(&response, request: request, secure: secureCookies)
        if let newBrowserID { response.setCookie(WebCookies.browser(newBrowserID, secure: secureCookies)) }
        if clearSession,
            response.headers[.setCookie] == nil || !(response.headers[values: .setCookie].contains { $0.hasPrefix(WebCookies.session + "=") })
        {
            response.setCookie(WebCookies.clearedSession(secure: secureCookies))
        }
        return response
    }
}

/// Sends people who are not signed in to the sign-in page, remembering where they were going. A WEAK session (an
/// app vouched for the person) may read pages but change nothing: connecting or disconnecting services, authorizing
/// applications and linking identities all post, and a post from a WEAK session is sent to sign in fully first.
struct RequireSignInMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response
    {
        guard let session = context.webSession else {
            return Self.signIn(next: request.method == .get ? request.uri.path : "/connections")
        }
        if session.strength != .strong, request.method != .get, request.method != .head {
            // Back to the page the form was on once signed in, when the browser says which (same site only).
            return Self.signIn(next: Self.refererPath(request) ?? "/connections")
        }
        if session.user.role == .auditor, !Role.auditorMay(request.method, path: request.uri.path), !Self.isOwnAccount(request.uri.path) {
            throw Role.auditorRefusal
        }
        return try await next(request, context)
    }

    /// Pages where an auditor changes only their own sign-in (password, passkeys, two-factor, sessions, linked
    /// accounts) or signs out: the rest of the console is read-only to them.
    static func isOwnAccount(_ path: String) -> Bool {
        path == "/logout" || path == "/settings" || path.hasPrefix("/settings/")
    }

    static func signIn(next target: String) -> Response {
        var components = URLComponents()
        components.path = "/login"
        components.queryItems = [URLQueryItem(name: "next", value: WebResponse.safeNext(target))]
        return WebResponse.redirect(to: components.string ?? "/login")
    }

    /// The path and query of the `Referer` when it is a page of this server.
    static func refererPath(_ request: Request) -> String? {
        guard let referer = request.headers[.referer], let url = URLComponents(string: referer),
            let host = request.head.authority, url.host.map({ host == $0 || host.hasPrefix($0 + ":") }) == true
        else { return nil }
        return url.percentEncodedPath + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
    }
}

enum WebResponse {
    /// 303 See Other: after a form post, the browser follows with a GET.
    static func redirect(to location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// Only local paths are followed after sign-in, so `next` cannot send anyone elsewhere.
    static func safeNext(_ value: String?) -> String {
        guard let value, value.hasPrefix("/"), !value.hasPrefix("//"), !value.hasPrefix("/\\"), !value.contains("\\"),
            !value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }), value.count < 4096
        else { return "/connections" }
        return value
    }
}

/// A submitted `application/x-www-form-urlencoded` form.
struct WebForm {
    let fields: [String: String]

    subscript(_ name: String) -> String? { fields[name] }

    func trimmed(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }

    static func read(_ request: Request, limit: Int = 64 * 1024) async throws -> WebForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw LatchkeyError(.payloadTooLarge, "The form is larger than \(limit / 1024) KiB.")
        }
        return parse(buffer)
    }

    /// Reads the form and keeps the body in `request`, so that a handler after a middleware can read it again.
    static func collect(_ request: inout Request, limit: Int = 64 * 1024) async throws -> WebForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw LatchkeyError(.payloadTooLarge, "The form is larger than \(limit / 1024) KiB.")
        }
        return parse(buffer)
    }

    /// A percent-encoded form value with `+` for spaces; nil when its escapes are not valid UTF-8.
    private static func decode(_ bytes: some Collection<UInt8>) -> String? {
        let text = String(decoding: bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return text.contains("%") ? text.removingPercentEncoding : text
    }

    private static func parse(_ buffer: ByteBuffer) -> WebForm {
        // `+` is a space in a form; the first of a repeated field wins.
        var fields: [String: String] = [:]
        for pair in buffer.readableBytesView.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return WebForm(fields: fields)
    }

    /// Refuses the post unless it carries the token the page was rendered with (in `field`), compared in constant time.
    func requireCSRF(_ expected: String, field: String = "csrf_token") throws {
        guard let sent = fields[field], !sent.isEmpty, !expected.isEmpty, ConstantTime.equals(sent, expected) else {
            throw LatchkeyError.forbidden("This form has expired or was sent from another site. Go back, reload the page and try again.")
        }
    }
}
