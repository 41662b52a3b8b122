import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyAuthServer
import NIOCore

/// The answers of the OAuth endpoints: JSON, `Cache-Control: no-store` (RFC 6749 §5.1) unless a document is public,
/// and RFC 6749 §5.2 error bodies.
enum OAuthResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, cacheable: Bool = false) throws -> Response {
        body(try encoder.encode(value), status: status, cacheable: cacheable)
    }

    /// A JSON object built of plain values (strings, numbers, booleans, arrays of strings).
    static func object(_ value: [String: any Sendable], status: HTTPResponse.Status = .ok) throws -> Response {
        body(try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), status: status, cacheable: false)
    }

    static func error(_ error: OAuthError, basicChallenge: Bool = false) -> Response {
        let data = (try? encoder.encode(["error": error.code, "error_description": error.description])) ?? Data()
        var response = body(data, status: HTTPResponse.Status(code: error.status), cacheable: false)
        if error.status == 401, basicChallenge { response.headers[.wwwAuthenticate] = "Basic realm=\"latchkey\"" }
        return response
    }

    static func tooMany(retryAfter seconds: Int) -> Response {
        var response = error(OAuthError("temporarily_unavailable", "Too many requests from this address; try again in \(seconds) s.", status: 429))
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    private static func body(_ data: Data, status: HTTPResponse.Status, cacheable: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if cacheable {
            headers[.cacheControl] = "public, max-age=300"
        } else {
            headers[.cacheControl] = "no-store"
            headers[HTTPField.Name("Pragma")!] = "no-cache"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
