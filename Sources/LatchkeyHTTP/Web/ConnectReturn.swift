import Foundation
import Hummingbird
import LatchkeyCore

/// Where the Connection Center sends the person after connecting a service, when they came from an authorization's
/// consent page (*connect first*): a local `/oauth/authorize?…` URL, kept 15 minutes in an HttpOnly cookie so that it
/// survives the round trip to the provider.
enum ConnectReturn {
    static let cookie = "latchkey_return"

    /// `value` when it is a safe local consent URL.
    static func target(_ value: String?) -> String? {
        guard let value, value.hasPrefix("/oauth/authorize?"), WebResponse.safeNext(value) == value else { return nil }
        return value
    }

    static func set(_ target: String, secure: Bool) -> Cookie {
        Cookie(
            name: cookie,
            value: Data(target.utf8).base64URLEncodedString(),
            maxAge: 900,
            path: "/",
            secure: secure,
            httpOnly: true,
            sameSite: .lax
        )
    }

    static func cleared(secure: Bool) -> Cookie {
        Cookie(name: cookie, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The consent URL the browser's cookie holds, if any.
    static func read(_ request: Request) -> String? {
        WebCookies.text(request, cookie, maximumLength: 6000).flatMap(target)
    }

    /// A redirect to the consent page the person came from (clearing the cookie), or nil.
    static func redirect(_ request: Request, secure: Bool) -> Response? {
        guard let back = read(request) else { return nil }
        var response = WebResponse.redirect(to: back)
        response.setCookie(cleared(secure: secure))
        return response
    }
}
