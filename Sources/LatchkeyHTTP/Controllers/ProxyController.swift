import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway
import LatchkeyStorage

/// `/api/v1/proxy/{integration}/{path…}`: any method relayed to the provider's API as an end user (named in
/// `Latchkey-End-User`, one Connection optionally in `Latchkey-Connection-Id`). The rules live in `ProxyService`
/// and `ProxyTarget`; bodies are buffered, within the server's body limit going out and the outbound policy's
/// answer limit coming back.
struct ProxyController {
    let proxy: ProxyService
    let maxBodySize: Int

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
        try await context.authorize(.proxy, integration: integration, request: request)
        var body: Data?
        if request.method != .get, request.method != .head {
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: maxBodySize)
            } catch {
                throw LatchkeyError.payloadTooLarge(limit: maxBodySize)
            }
            if buffer.readableBytes > 0 { body = Data(buffer.readableBytesView) }
        }
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let answer = try await proxy.send(
            .init(
                method: request.method.rawValue,
                query: .init(integrationKey: integration, externalUserID: endUser, connectionID: connection?.lowercased()),
                path: path,
                queryString: queryString,
                headers: headers,
                body: body
            ),
            caller: .init(tenantID: context.tenantID, appID: context.app?.id, actor: context.actor(for: request))
        )
        RequestLogNote.current?.note(answer.credential)
        var fields = HTTPFields()
        for header in answer.headers {
            guard let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        return Response(
            status: .init(code: answer.status),
            headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }

    static let endUser = HTTPField.Name("Latchkey-End-User")!
    static let connectionID = HTTPField.Name("Latchkey-Connection-Id")!
}
