import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore

/// A one-time message for the page a form's redirect leads to ("GitHub disconnected."): carried in a short-lived
/// HttpOnly cookie, never in the address, so a reload or a shared link does not show it again.
///
/// A handler answers with `WebResponse.redirect(to:flash:)`; `WebSessionMiddleware`, which knows whether cookies are
/// `Secure`, turns the message into the cookie, and clears the cookie once a page has been shown with it.
enum PageFlash {
    static let cookie = "latchkey_flash"
    /// Carries the message from the handler to `WebSessionMiddleware`; removed there, never sent.
    static let outgoing = HTTPField.Name("X-Latchkey-Flash-Out")!
    /// Longer messages are cut: a message names a service or an account, not a story.
    static let maximumLength = 300

    /// The message the browser's cookie carries, if any.
    static func message(_ request: Request) -> String? {
        guard let message = WebCookies.text(request, cookie, maximumLength: 8 * maximumLength), !message.isEmpty else { return nil }
        return String(message.prefix(maximumLength))
    }

    static func set(_ message: String, secure: Bool) -> Cookie {
        Cookie(
            name: cookie,
            value: Data(String(message.prefix(maximumLength)).utf8).base64URLEncodedString(),
            maxAge: 120,
            path: "/",
            secure: secure,
            httpOnly: true,
            sameSite: .lax
        )
    }

    static func cleared(secure: Bool) -> Cookie {
        Cookie(name: cookie, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// Sets or clears the cookie on `response`: a handler's outgoing message becomes the cookie; a page shown while
    /// the browser carried one clears it.
    static func settle(_ response: inout Response, request: Request, secure: Bool) {
        if let message = response.headers[outgoing] {
            response.headers[outgoing] = nil
            response.setCookie(set(message.removingPercentEncoding ?? message, secure: secure))
        } else if request.cookies[cookie] != nil, response.status.kind == .successful,
            response.headers[.contentType]?.hasPrefix("text/html") == true
        {
            response.setCookie(cleared(secure: secure))
        }
    }
}

extension WebResponse {
    /// 303 See Other to `location`, showing `flash` once on the page it leads to.
    static func redirect(to location: String, flash: String) -> Response {
        var response = redirect(to: location)
        // Header values are ASCII-safe this way; `PageFlash.settle` decodes it.
        response.headers[PageFlash.outgoing] = flash.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return response
    }
}
