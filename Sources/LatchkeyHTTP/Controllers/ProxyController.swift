import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyStorage

/// `/api/v1/proxy/{integration}/{path…}`: any method relayed to the provider's API as an end user (named in
/// `Latchkey-End-User`, one Connection optionally in `Latchkey-Connection-Id`). The rules live in `ProxyService`
/// and `ProxyTarget`. Both bodies are relayed as they arrive, never held whole, within the proxy's limits
/// (``ProxyService/Limits``); a request body whose announced length is within the retained size is read first, so
/// that it can be sent again after a forced refresh.
struct ProxyController {
    let proxy: ProxyService
    /// Resolves `Latchkey-Identity-Provider` + `Latchkey-Identity-Subject` (an account an app vouches for) to the
    /// person who linked it.
    let identities: AppIdentities

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    func addRoutes(to group: RouterGroup<CallerContext>, recorder: RouteRecorder?) {
        for method in Self.methods {
            recorder?.record(method, "proxy/:integration/:path")
            group.on("proxy/:integration/**", method: method, use: GatewayCallMetrics.measured(relay))
        }
    }

    @Sendable func relay(_ request: Request, context: CallerContext) async throws -> Response {
        let integration = context.parameters.get("integration") ?? ""
        guard IntegrationRules.isStoredKey(integration) else { throw LatchkeyError.invalidField("integration", "must be an integration key") }
        let prefix = "/api/v1/proxy/\(integration)/"
        let rawPath = request.uri.path
        guard rawPath.hasPrefix(prefix) else { throw LatchkeyError.invalidField("path", "must follow the integration key") }
        let path = String(rawPath.dropFirst(prefix.count))
        let queryString = request.uri.query
        // Refused before anything is resolved, audited or sent.
        try ProxyService.check(path: path, queryString: queryString)
        let endUser = request.headers[Self.endUser]
        if let endUser, endUser.isEmpty || endUser.unicodeScalars.count > 255 {
            throw LatchkeyError.invalidField("Latchkey-End-User", "must be 1 to 255 characters")
        }
        let connection = request.headers[Self.connectionID]
        if let connection, UUID(uuidString: connection) == nil {
            throw LatchkeyError.invalidField("Latchkey-Connection-Id", "is not a valid connection id")
        }
        try context.refuseAuditor()
        try await context.authorize(.proxy, integration: integration, request: request)
        var externalUserID = endUser
        var appID = context.app?.id
        let identityProvider = request.headers[Self.identityProvider]
        let identitySubject = request.headers[Self.identitySubject]
        if identityProvider != nil || identitySubject != nil {
            guard context.app != nil else { throw AppIdentities.adminKeyRefused }
            let claim = try AppIdentityClaim.checked(
                provider: identityProvider,
                subject: identitySubject,
                displayName: nil,
                names: ("Latchkey-Identity-Provider", "Latchkey-Identity-Subject", "")
            )
            switch try await identities.callAs(
                claim,
                externalUserID: endUser,
                fieldName: "Latchkey-Identity-Provider",
                context: context,
                request: request
            ) {
            case .linkRequired(let required):
                return try AppIdentities.response(required, requestID: context.id)
            case .person(let userID):
                // The linked person's own credentials: the console app's end user named by their id (DESIGN §2).
                externalUserID = userID
                appID = nil
            }
        }
        var body: Data?
        var upload: OutboundByteStream?
        if request.method != .get, request.method != .head {
            let limits = proxy.limits
            let length = request.headers[.contentLength].flatMap { Int($0) }
            if let length, length > limits.maxUploadBytes { throw LatchkeyError.payloadTooLarge(limit: limits.maxUploadBytes) }
            if let length, length <= limits.maxRetainedUploadBytes {
                let buffer: ByteBuffer
                do {
                    buffer = try await request.body.collect(upTo: limits.maxRetainedUploadBytes)
                } catch {
                    throw LatchkeyError.payloadTooLarge(limit: limits.maxRetainedUploadBytes)
                }
                if buffer.readableBytes > 0 { body = Data(buffer.readableBytesView) }
            } else {
                upload = OutboundByteStream(request.body, length: length)
            }
        }
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let answer = try await proxy.stream(
            .init(
                method: request.method.rawValue,
                query: .init(integrationKey: integration, externalUserID: externalUserID, connectionID: connection?.lowercased()),
                path: path,
                queryString: queryString,
                headers: headers,
                body: body,
                upload: upload
            ),
            caller: .init(tenantID: context.tenantID, appID: appID, actor: context.actor(for: request))
        )
        RequestLogNote.current?.note(answer.credential)
        var fields = HTTPFields()
        for header in answer.headers {
            guard let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        // The provider's length is kept when the answer has a body, so that the caller sees it too.
        let hasBody = answer.status >= 200 && answer.status != 204 && answer.status != 304
        let stream = answer.body
        return Response(
            status: .init(code: answer.status),
            headers: fields,
            body: ResponseBody(contentLength: hasBody ? answer.contentLength : nil) { writer in
                for try await piece in stream { try await writer.write(piece) }
                try await writer.finish(nil)
            }
        )
    }

    static let endUser = HTTPField.Name("Latchkey-End-User")!
    static let connectionID = HTTPField.Name("Latchkey-Connection-Id")!
    static let identityProvider = HTTPField.Name("Latchkey-Identity-Provider")!
    static let identitySubject = HTTPField.Name("Latchkey-Identity-Subject")!
}
