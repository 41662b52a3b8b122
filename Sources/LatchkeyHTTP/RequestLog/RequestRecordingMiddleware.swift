import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

/// Writes one request-log entry per call of the routes it wraps: when (the injected clock), what kind, the HTTP
/// status and error code the caller got (errors included: it sits inside the error middleware and sees them
/// thrown), the latency, and what the handler noted on ``RequestLogNote/current``. Hands the entry to the
/// ``RequestLogWriter`` without waiting for it to be written. Nothing of the request itself (query, headers, body)
/// is read.
struct RequestRecordingMiddleware<Context: RequestContext>: RouterMiddleware {
    let writer: RequestLogWriter
    let kind: RequestKind
    let clock: any LatchkeyClock
    /// The tenant of the caller and, for an app's key, its app (the context is authenticated before this middleware
    /// runs). What the handler notes takes precedence over the app given here.
    let caller: @Sendable (Context) -> (tenantID: String, appID: String?)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let time = clock.now
        let note = RequestLogNote()
        do {
            let response = try await RequestLogNote.$current.withValue(note) { try await next(request, context) }
            record(note, context: context, time: time, start: start, status: response.status.code, errorCode: nil)
            return response
        } catch {
            let (status, code) = Self.outcome(of: error)
            record(note, context: context, time: time, start: start, status: status, errorCode: code)
            throw error
        }
    }

    private func record(_ note: RequestLogNote, context: Context, time: Date, start: ContinuousClock.Instant, status: Int, errorCode: String?) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let fields = note.snapshot
        let (tenantID, appID) = caller(context)
        writer.record(
            RequestLogEntry(
                id: NewID.make(),
                tenantID: tenantID,
                time: time,
                kind: kind,
                appID: fields.appID ?? appID,
                externalUserID: fields.externalUserID,
                connectionID: fields.connectionID,
                integrationKey: fields.integrationKey,
                credentialID: fields.credentialID,
                tool: fields.tool,
                status: status,
                errorCode: errorCode,
                latencyMilliseconds: Int(milliseconds)
            )
        )
    }

    /// The status and error code the error middleware will answer `error` with.
    static func outcome(of error: any Error) -> (status: Int, code: String) {
        switch error {
        case let error as LatchkeyError:
            return (error.httpStatus, error.code.rawValue)
        case let error as HTTPError:
            let code: LatchkeyError.Code =
                switch error.status.code {
                case 401: .unauthorized
                case 404: .notFound
                case 405: .invalidRequest
                case 413: .payloadTooLarge
                case ..<500: .invalidRequest
                default: .internalError
                }
            return (LatchkeyError(code, "").httpStatus, code.rawValue)
        default:
            return (500, LatchkeyError.Code.internalError.rawValue)
        }
    }
}
