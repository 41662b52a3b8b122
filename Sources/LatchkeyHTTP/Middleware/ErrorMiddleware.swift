import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Logging

/// Turns every error into the answer DESIGN §6 describes: JSON under `/api/v1` (and for clients that ask for
/// JSON), a plain HTML page for browsers everywhere else. Unexpected errors are logged with the request id and
/// answered without internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The navigation of the signed-in person an HTML error page is for (nil: none), so an error is no dead end.
    var chrome: (@Sendable (Request) async -> PageChrome?)? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let latchkeyError = Self.map(error, request: request, context: context)
            let chrome = Self.wantsJSON(request) ? nil : await chrome?(request)
            return Self.response(for: latchkeyError, request: request, requestID: context.id, chrome: chrome)
        }
    }

    static func map(_ error: any Error, request: Request, context: Context) -> LatchkeyError {
        switch error {
        case let error as LatchkeyError:
            return error
        case is DatabaseUnreachable:
            return DatabaseUnreachable.error
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                if !wantsJSON(request) {
                    return LatchkeyError(.notFound, "There is no page at this address. Check the link, or go back to the start page.")
                }
                return LatchkeyError(.notFound, "There is nothing at \(request.method) \(request.uri.path).")
            case .methodNotAllowed:
                return LatchkeyError(.invalidRequest, "\(request.method) is not allowed on \(request.uri.path).")
            case .contentTooLarge:
                return .payloadTooLarge(limit: 1024 * 1024)
            case .unauthorized:
                return .unauthorized()
            case .badRequest:
                return .invalidRequest(error.body ?? "The request is not valid.")
            default:
                if error.status.code < 500 { return LatchkeyError(.invalidRequest, error.body ?? "The request is not valid.") }
                context.logger.error("request failed", metadata: ["status": "\(error.status.code)"])
                return LatchkeyError(.internalError, "Something went wrong on our side. The request id is \(context.id).")
            }
        default:
            context.logger.error("request failed", metadata: ["error_type": "\(type(of: error))"])
            return LatchkeyError(.internalError, "Something went wrong on our side. The request id is \(context.id).")
        }
    }

    static func response(for error: LatchkeyError, request: Request, requestID: String, chrome: PageChrome? = nil) -> Response {
        let status = HTTPResponse.Status(code: error.httpStatus)
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        if wantsJSON(request) {
            let body = ErrorBody(
                error: .init(
                    code: error.code.rawValue,
                    message: error.message,
                    action: error.action ?? (error.retryAfter == nil ? nil : .init(type: "retry")),
                    retryAfter: error.retryAfter,
                    fields: error.fields.isEmpty ? nil : error.fields,
                    requestId: requestID
                )
            )
            return (try? JSON.response(body, status: status, headers: headers)) ?? Response(status: status)
        }
        return HTMLPage.error(status: status, title: HTMLPage.title(for: error), message: error.message, headers: headers, chrome: chrome)
    }

    static func wantsJSON(_ request: Request) -> Bool {
        let path = request.uri.path
        if path == "/api/v1" || path.hasPrefix("/api/") || path == "/openapi.json" || path == "/healthz" || path == "/readyz" { return true }
        let accept = request.headers[.accept] ?? ""
        return accept.contains("application/json") && !accept.contains("text/html")
    }
}

struct ErrorBody: Encodable {
    struct Detail: Encodable {
        var code: String
        var message: String
        var action: LatchkeyError.Action?
        var retryAfter: Int?
        var fields: [LatchkeyError.FieldError]?
        var requestId: String
    }
    var error: Detail
}
